import type { Readable } from 'node:stream'
import type { Logger } from 'pino'
import { statusOf, type DockerClient } from './client.js'
import { LABELS } from './containers.js'
import { JsonLines } from './progress.js'

/** A watched container's death: settles once with its exit code (null when it vanished unseen). */
export interface Death {
  died: Promise<number | null>
  /** Settles `died` from outside: a stop that saw the container end, or a sweep after an outage. */
  settle(code: number | null): void
  /** Stops watching; `died` then never settles. */
  unwatch(): void
}

interface DieEvent {
  id?: string
  Actor?: { ID?: string; Attributes?: { exitCode?: string } }
}

/**
 * One Docker events subscription per runtime: this instance's container deaths (`die`), dispatched to the handles
 * that hold those containers. Docker keeps no backlog for a client that was away, so after the stream is lost the
 * held containers are inspected (`sweep`) to catch the deaths it missed.
 */
export class DeathWatch {
  private stream: Readable | null = null
  private connecting: Promise<void> | null = null
  private readonly watched = new Map<string, (code: number | null) => void>()
  private closed = false

  constructor(
    private readonly client: DockerClient,
    private readonly instance: string,
    private readonly logger: Logger,
  ) {}

  /** Resolves once the daemon streams deaths to us, so a container started after it cannot die unseen. */
  connect(): Promise<void> {
    if (this.stream || this.closed) return Promise.resolve()
    this.connecting ??= this.subscribe().finally(() => (this.connecting = null))
    return this.connecting
  }

  watch(id: string): Death {
    let settle!: (code: number | null) => void
    const died = new Promise<number | null>((resolve) => {
      settle = (code) => {
        if (this.watched.get(id) !== settle) return
        this.watched.delete(id)
        resolve(code)
      }
    })
    this.watched.set(id, settle)
    return { died, settle, unwatch: () => this.watched.get(id) === settle && this.watched.delete(id) }
  }

  /** After (re)connecting: asks about every held container and settles those that are no longer running. */
  async sweep(): Promise<void> {
    for (const [id, settle] of [...this.watched]) {
      try {
        const info = await this.client.docker.getContainer(id).inspect()
        if (!info.State.Running) settle(info.State.ExitCode)
      } catch (err) {
        if (statusOf(err) !== 404) throw err
        settle(null)
      }
    }
  }

  /** Reconnects if the stream is gone, then sweeps: what the runtime runs when the daemon reappears. */
  async resume(): Promise<void> {
    await this.connect()
    await this.sweep()
  }

  close(): void {
    this.closed = true
    this.stream?.destroy()
    this.stream = null
  }

  private async subscribe(): Promise<void> {
    const stream = (await this.client.docker.getEvents({
      filters: { type: ['container'], event: ['die'], label: [`${LABELS.instance}=${this.instance}`] },
    })) as Readable
    if (this.closed) {
      stream.destroy()
      return
    }
    this.stream = stream
    const lines = new JsonLines()
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      for (const msg of lines.push(chunk)) this.dispatch(msg as DieEvent)
    })
    let lost = false
    const onLost = (err?: Error) => {
      if (lost || this.closed) return
      lost = true
      this.stream = null
      this.logger.warn({ err, docker: this.client.address }, 'Docker event stream lost')
      void this.reconnect()
    }
    stream.on('error', onLost)
    stream.once('end', () => onLost())
    stream.once('close', () => onLost())
  }

  /** The stream ended: if the daemon still answers, resubscribe now; if not, the client's pings take over and
   *  resume when it is back. */
  private async reconnect(): Promise<void> {
    try {
      if (await this.client.check()) await this.resume()
    } catch (err) {
      this.client.failed(err)
      this.logger.warn({ err }, 'could not resubscribe to Docker events')
    }
  }

  private dispatch(msg: DieEvent): void {
    const id = msg.Actor?.ID ?? msg.id
    const settle = id ? this.watched.get(id) : undefined
    if (!settle) return
    const code = Number(msg.Actor?.Attributes?.exitCode)
    settle(Number.isInteger(code) ? code : null)
  }
}
