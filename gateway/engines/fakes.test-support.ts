import type { Diagnosis } from '../contract/index.js'
import type { EngineProcessRecord, PidRepo } from '../store/types.js'
import { StartFailure, type Driver, type DriverHandle, type ExitInfo, type Health, type StartContext } from './driver.js'

export class FakeHandle implements DriverHandle {
  exited: Promise<ExitInfo>
  private gone!: (e: ExitInfo) => void
  constructor(readonly url: string) {
    this.exited = new Promise((resolve) => (this.gone = resolve))
  }
  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.gone({ code, signal })
  }
  async stop(): Promise<void> {
    this.exit(null, 'SIGTERM')
  }
}

/** A driver whose health answer and start failures the test sets. */
export class FakeDriver implements Driver {
  runningCheckMs: number | null = null
  health: Health = { status: 'ready' }
  failWith: Diagnosis | null = null
  /** Only this replica's starts fail with `failWith` (null: every replica's). */
  failReplica: number | null = null
  handles: FakeHandle[] = []
  starts = 0
  startsBy: number[] = []
  async start(ctx: StartContext): Promise<DriverHandle> {
    this.starts++
    this.startsBy[ctx.replica] = (this.startsBy[ctx.replica] ?? 0) + 1
    if (this.failWith && (this.failReplica === null || this.failReplica === ctx.replica)) throw new StartFailure(this.failWith)
    const h = new FakeHandle(`http://127.0.0.1:${20000 + this.starts}`)
    this.handles.push(h)
    return h
  }
  async probe(_url: string): Promise<Health> {
    return this.health
  }
  /** What the engine says its context is when asked after `running`; undefined: a driver that cannot ask. */
  context: Promise<number | null> | undefined
  get contextLength(): Driver['contextLength'] {
    const { context } = this
    return context === undefined ? undefined : () => context
  }
}

export const memoryPids = (): PidRepo => {
  const rows = new Map<number, EngineProcessRecord>()
  return { add: (r) => rows.set(r.pid, r), remove: (pid) => rows.delete(pid), list: () => [...rows.values()] }
}
