import type { Logger } from 'pino'
import { Pool } from 'undici'
import type { Diagnosis, EngineState, ModelDefinition, ReplicaStatus } from '../contract/index.js'
import { canTransition } from './policies/lifecycle.js'
import { restartDelay } from './policies/restart.js'
import { DIAGNOSIS_TAIL, diagnoseExit, diagnoseRemoteUnreachable, diagnoseSpawnError, diagnoseStartTimeout } from './diagnose.js'
import { StartFailure, type Driver, type DriverHandle, type ExitInfo } from './driver.js'
import { LogRing } from './logs.js'
import { sleep } from './wait.js'

export interface ReplicaOptions {
  index: number
  def: ModelDefinition
  driver: Driver
  logger: Logger
  now: () => number
  /** Health poll interval while starting. */
  pollMs: number
  /** SIGTERM → SIGKILL grace when stopping. */
  stopGraceMs: number
  /** Called after every transition (`transitioned`) and when url/pid/context length become known. */
  onChange: (replica: Replica, transitioned: boolean) => void
}

type Outcome = { kind: 'ready' } | { kind: 'stopped' } | { kind: 'failed'; diagnosis: Diagnosis }

/** A running replica leaves routing after this many failed health checks in a row, so one slow answer is not enough. */
export const RUNNING_CHECK_FAILURES = 3

/**
 * One replica's lifecycle. `start()` and `stop()` are the only entry points; a single async run (`lifecycle`) per
 * start owns the process from spawn to exit and makes every later transition, so no two code paths race on it.
 */
export class Replica {
  state: EngineState = 'stopped'
  url: string | undefined
  pid: number | undefined
  /** Keep-alive pool to this replica while it runs; closed when it stops. */
  dispatcher: Pool | undefined
  /** See UpstreamTarget.apiRoot; set with the dispatcher. */
  apiRoot = '/v1'
  inFlight = 0
  /** Failed starts (or deaths) in a row; reset when it reaches `running` or on an explicit start, kept across a stop. */
  failures = 0
  retryAt: number | null = null
  diagnosis: Diagnosis | null = null
  contextLength: number | null = null
  readonly logs = new LogRing(500)
  private handle: DriverHandle | undefined
  private stopCtl: AbortController | null = null
  private run: Promise<void> = Promise.resolve()
  /** `logs.written` when the current attempt began: a diagnosis reads only this attempt's lines. */
  private mark = 0
  /** Set by `stop({ detach: true })`: let go of an engine that can outlive Cortex instead of stopping it. */
  private detaching = false

  constructor(private readonly o: ReplicaOptions) {}

  get index(): number {
    return this.o.index
  }

  status(): ReplicaStatus {
    return { index: this.index, state: this.state, url: this.url, pid: this.pid, inFlight: this.inFlight }
  }

  /** An explicit start forgives earlier failures (ARCHITECTURE: the restart rule). */
  resetFailures(): void {
    this.failures = 0
    this.retryAt = null
  }

  /** `stopped|failed → starting`; the start goes on in the background and reports through `onChange`. */
  start(): void {
    this.transition('starting')
    const ctl = new AbortController()
    this.stopCtl = ctl
    this.run = this.lifecycle(ctl.signal).catch((err: unknown) => this.crash(err))
  }

  /** Resolves once the engine is gone (or, with `detach`, let go of where its driver allows: see DriverHandle.detach).
   *  A failed replica becomes `stopped`; its diagnosis and failure count stay. */
  stop(opts: { detach?: boolean } = {}): Promise<void> {
    this.detaching = opts.detach ?? false
    if (this.state === 'stopped') return this.run
    if (this.state === 'failed') {
      this.transition('stopped')
      return this.run
    }
    if (this.state !== 'stopping') this.transition('stopping')
    this.stopCtl?.abort()
    return this.run
  }

  private async lifecycle(stop: AbortSignal): Promise<void> {
    const { def, driver, now } = this.o
    const deadline = def.startTimeoutMs > 0 ? now() + def.startTimeoutMs : Infinity
    let handle: DriverHandle
    // Two attempts only when the first lost its port: llama-server logs "couldn't bind HTTP server socket" and
    // exits when another process took the port between our probe and its bind.
    for (let attempt = 1; ; attempt++) {
      const mark = (this.mark = this.logs.written)
      try {
        handle = await driver.start({ replica: this.index, log: (line) => this.logs.push(line) })
      } catch (err) {
        return this.finish(err instanceof StartFailure ? err.diagnosis : diagnoseSpawnError(def, def.engine, String(err)))
      }
      this.handle = handle
      this.url = handle.url
      this.pid = handle.pid
      this.emit()
      const outcome = await this.waitReady(handle, stop, deadline, mark)
      if (outcome.kind === 'ready' && !stop.aborted) break
      await this.release(handle, outcome.kind === 'stopped' || stop.aborted)
      if (outcome.kind !== 'failed' || stop.aborted) return this.finish(null)
      if (outcome.diagnosis.cause === 'port_in_use' && attempt === 1) {
        this.o.logger.warn({ replica: this.index }, 'engine lost its port before binding: retrying with a new one')
        continue
      }
      return this.finish(outcome.diagnosis)
    }

    this.failures = 0
    this.retryAt = null
    this.diagnosis = null
    const url = new URL(handle.url)
    this.dispatcher = new Pool(url.origin, { pipelining: 1 })
    // Engines serve the API under /v1 of their root; a remote's base URL is the API root itself.
    this.apiRoot = this.o.def.runtime === 'remote' ? url.pathname.replace(/\/+$/, '') : '/v1'
    this.transition('running')
    this.readContextLength(handle.url, stop)
    const outcome = await this.watch(handle, stop)
    await this.release(handle, outcome.kind === 'stopped')
    return this.finish(outcome.kind === 'failed' ? outcome.diagnosis : null)
  }

  /** Stops the engine, or only lets go of it when a stop asked to detach and the driver can. */
  private async release(handle: DriverHandle, stopped: boolean): Promise<void> {
    if (stopped && this.detaching && handle.detach) return handle.detach()
    await handle.stop(this.o.stopGraceMs)
  }

  /** Polls health until ready, the process exits, the start times out, the remote is unreachable, or a stop. */
  private async waitReady(h: DriverHandle, stop: AbortSignal, deadline: number, mark: number): Promise<Outcome> {
    const unreachable = this.o.driver.unreachableAfter
    let downs = 0
    let downSince = 0
    let exit: ExitInfo | null = null
    const gone = new AbortController()
    void h.exited.then((e) => {
      exit = e
      gone.abort()
    })
    const wake = AbortSignal.any([stop, gone.signal])
    const exitDiagnosis = (e: ExitInfo): Outcome => ({
      kind: 'failed',
      diagnosis: diagnoseExit({ def: this.o.def, code: e.code, signal: e.signal, log: this.logs.since(mark), phase: 'start' }),
    })
    for (;;) {
      if (stop.aborted) return { kind: 'stopped' }
      if (exit) return exitDiagnosis(exit)
      if (this.o.now() >= deadline) {
        return { kind: 'failed', diagnosis: diagnoseStartTimeout(this.o.def, this.o.def.startTimeoutMs, this.logs.since(mark)) }
      }
      const probedAt = this.o.now()
      const health = await this.o.driver.probe(h.url, wake).catch((err: unknown) => {
        if (wake.aborted) return null
        throw err
      })
      if (health?.status === 'down' && unreachable) {
        if (downs++ === 0) downSince = probedAt
        if (downs >= unreachable.probes && this.o.now() - downSince >= unreachable.ms) {
          return { kind: 'failed', diagnosis: diagnoseRemoteUnreachable(this.o.def, h.url, health.reason) }
        }
      } else if (health) downs = 0
      if (health?.status === 'ready') return { kind: 'ready' }
      if (health?.status === 'rejected') return { kind: 'failed', diagnosis: health.diagnosis }
      if (health?.status === 'loading' && this.state === 'starting') this.transition('loading')
      await sleep(this.o.pollMs, wake)
    }
  }

  /** While running: the exit promise, a stop, or (remote) a failed periodic health check ends it. */
  private async watch(h: DriverHandle, stop: AbortSignal): Promise<Outcome> {
    const done = new AbortController()
    const ended = AbortSignal.any([stop, done.signal])
    const exited = h.exited.then((e): Outcome => ({
      kind: 'failed',
      diagnosis: diagnoseExit({
        def: this.o.def,
        code: e.code,
        signal: e.signal,
        log: this.logs.since(this.mark),
        phase: 'running',
      }),
    }))
    const stopped = new Promise<Outcome>((resolve) => {
      if (stop.aborted) resolve({ kind: 'stopped' })
      stop.addEventListener('abort', () => resolve({ kind: 'stopped' }), { once: true })
    })
    const races = [exited, stopped]
    if (this.o.driver.runningCheckMs !== null) races.push(this.healthLoop(h.url, this.o.driver.runningCheckMs, ended))
    const outcome = await Promise.race(races)
    done.abort()
    return stop.aborted ? { kind: 'stopped' } : outcome
  }

  private async healthLoop(url: string, everyMs: number, ended: AbortSignal): Promise<Outcome> {
    let failed = 0
    for (;;) {
      await sleep(everyMs, ended)
      if (ended.aborted) return { kind: 'stopped' }
      const health = await this.o.driver.probe(url, ended).catch((err: unknown) => {
        if (ended.aborted) return null
        throw err
      })
      if (!health) return { kind: 'stopped' }
      if (health.status === 'rejected') return { kind: 'failed', diagnosis: health.diagnosis }
      if (health.status === 'ready') {
        failed = 0
      } else if (++failed >= RUNNING_CHECK_FAILURES) {
        const reason = health.status === 'down' ? health.reason : 'not ready'
        return { kind: 'failed', diagnosis: diagnoseRemoteUnreachable(this.o.def, url, reason) }
      }
    }
  }

  private readContextLength(url: string, stop: AbortSignal): void {
    if (!this.o.driver.contextLength) return
    this.o.driver.contextLength(url, stop).then(
      (n) => {
        if (this.state !== 'running' || this.url !== url) return
        this.contextLength = n
        this.emit()
      },
      (err: unknown) => this.o.logger.warn({ err, replica: this.index }, 'could not read the context length'),
    )
  }

  /** The run's last step: release what it held, then `stopped` (asked for) or `failed` (with the diagnosis). */
  private finish(diagnosis: Diagnosis | null): void {
    this.dispatcher?.close().catch((err: unknown) => this.o.logger.warn({ err }, 'closing the upstream pool failed'))
    this.dispatcher = undefined
    this.handle = undefined
    this.url = undefined
    this.pid = undefined
    this.contextLength = null
    if (this.state === 'stopping' || !diagnosis) {
      this.transition('stopped')
      return
    }
    this.failures++
    this.retryAt = this.o.now() + restartDelay(this.failures)
    this.diagnosis = diagnosis
    this.o.logger.warn({ replica: this.index, cause: diagnosis.cause, logTail: diagnosis.logTail }, diagnosis.message)
    this.transition('failed')
  }

  /** A bug in the run (not an engine failure): record a failure at once so no waiter is left hanging, and end the
   *  engine; the run (what `stop` awaits) lasts until it is gone. */
  private crash(err: unknown): Promise<void> {
    this.o.logger.error({ err, replica: this.index }, 'replica lifecycle error')
    const gone = (this.handle?.stop(this.o.stopGraceMs) ?? Promise.resolve()).catch((e: unknown) =>
      this.o.logger.error({ err: e }, 'could not stop the engine after an error'),
    )
    this.handle = undefined
    if (this.state === 'failed' || this.state === 'stopped') return gone
    if (this.state === 'stopping') {
      this.state = 'stopped'
      this.o.onChange(this, true)
      return gone
    }
    this.failures++
    this.retryAt = this.o.now() + restartDelay(this.failures)
    this.diagnosis = {
      cause: 'internal_error',
      message: `internal error: ${String(err)}`,
      exitCode: null,
      logTail: this.logs.since(this.mark).slice(-DIAGNOSIS_TAIL),
    }
    this.state = 'failed'
    this.o.onChange(this, true)
    return gone
  }

  private transition(to: EngineState): void {
    if (!canTransition(this.state, to)) {
      throw new Error(`model "${this.o.def.name}" replica ${this.index}: illegal transition ${this.state} → ${to}`)
    }
    this.state = to
    this.o.onChange(this, true)
  }

  private emit(): void {
    this.o.onChange(this, false)
  }
}
