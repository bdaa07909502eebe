import type { Diagnosis } from '../contract/index.js'

export interface ExitInfo {
  code: number | null
  signal: NodeJS.Signals | null
}

/** What a driver started for one replica. */
export interface DriverHandle {
  /** Engine root for process/docker (`http://127.0.0.1:PORT`); the configured base URL (with /v1) for remote. */
  url: string
  pid?: number
  /** Settles once, when the engine is gone (for remote: when stopped). Never rejects. */
  exited: Promise<ExitInfo>
  /** Ends the engine: polite first, forced after `graceMs`; resolves when it is gone. */
  stop(graceMs: number): Promise<void>
  /** Lets go of the engine without stopping it (Docker with `engines.stopOnExit: false`: adopted at the next start).
   *  Unset = the engine cannot outlive Cortex, and `stop` is used instead. */
  detach?(): void
}

export interface StartContext {
  replica: number
  /** One line of the engine's output, for the log ring and diagnoses. */
  log(line: string): void
}

export type Health =
  | { status: 'ready' }
  | { status: 'loading' }
  /** Not answering (yet): connection refused, reset, timeout, unexpected status. */
  | { status: 'down'; reason: string }
  /** Answering, but it will not work without a fix (e.g. the remote rejected the API key). */
  | { status: 'rejected'; diagnosis: Diagnosis }

/** How one model's replicas are run. One driver per model; `start` is called once per replica start attempt. */
export interface Driver {
  start(ctx: StartContext): Promise<DriverHandle>
  /** Health probe; never generates tokens. */
  probe(url: string, signal: AbortSignal): Promise<Health>
  /** Interval of health checks while running; null = the exit promise is the only signal. */
  readonly runningCheckMs: number | null
  /**
   * Set where nothing is being brought up (remote endpoints): a start fails as unreachable once `probes` probes in a
   * row answered `down` and at least `ms` passed since the first of them. Unset: `down` while starting means "not
   * listening yet" (a spawned engine) and only the start timeout ends the wait.
   */
  readonly unreachableAfter?: { probes: number; ms: number }
  /** Optional: the context length the engine reports once ready. */
  contextLength?(url: string, signal: AbortSignal): Promise<number | null>
}

/** A start that could not begin, with the reason a person can act on (thrown by `Driver.start`). */
export class StartFailure extends Error {
  constructor(readonly diagnosis: Diagnosis) {
    super(diagnosis.message)
    this.name = 'StartFailure'
  }
}
