import { rmSync } from 'node:fs'
import { createServer, type Server, type ServerResponse } from 'node:http'

/**
 * Just enough of the Docker Engine API on a unix socket to test what Cortex does when the daemon comes and goes:
 * `/_ping`, a held-open `/events` stream, and `/containers/{id}/json`. The real daemon is tested in
 * test/integration/docker.test.ts; an outage cannot be staged there.
 */
export class FakeDaemon {
  /** Inspect answers by container id. */
  readonly containers = new Map<string, { running: boolean; exitCode: number }>()
  /** The query strings of every `/events` subscription. */
  readonly subscriptions: URLSearchParams[] = []
  private server: Server | null = null
  private readonly streams = new Set<ServerResponse>()

  constructor(readonly socket: string) {}

  get address(): string {
    return `unix://${this.socket}`
  }

  async start(): Promise<void> {
    rmSync(this.socket, { force: true })
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://docker')
      if (url.pathname === '/_ping') return void res.end('OK')
      if (url.pathname === '/events') {
        this.subscriptions.push(url.searchParams)
        res.writeHead(200, { 'content-type': 'application/json' })
        res.flushHeaders()
        this.streams.add(res)
        res.once('close', () => this.streams.delete(res))
        return
      }
      const inspect = url.pathname.match(/^\/containers\/([^/]+)\/json$/)
      const c = inspect && this.containers.get(inspect[1]!)
      if (!c) {
        res.writeHead(404, { 'content-type': 'application/json' })
        return void res.end(JSON.stringify({ message: 'No such container' }))
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ Id: inspect[1], State: { Running: c.running, ExitCode: c.exitCode } }))
    })
    await new Promise<void>((resolve) => server.listen(this.socket, resolve))
    this.server = server
  }

  /** Sends a `die` event, as dockerd does when a container's process ends. */
  die(id: string, exitCode: number): void {
    this.containers.set(id, { running: false, exitCode })
    const event = {
      status: 'die',
      id,
      Type: 'container',
      Action: 'die',
      Actor: { ID: id, Attributes: { exitCode: String(exitCode) } },
    }
    for (const res of this.streams) res.write(`${JSON.stringify(event)}\n`)
  }

  /** The daemon goes away: every connection is cut and nothing listens on the socket. */
  async stop(): Promise<void> {
    const server = this.server
    this.server = null
    if (!server) return
    for (const res of this.streams) res.destroy()
    server.closeAllConnections()
    await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())))
  }
}
