import type { Logger } from 'pino'
import type { AdminEvent, ModelDefinition, ModelStatus, StateReason } from '../contract/index.js'
import { isOpen, nextChange } from './policies/schedule.js'

/** What the scheduler drives: the engine manager's outcomes. */
export interface ScheduledEngines {
  statuses(): ModelStatus[]
  start(name: string): Promise<void>
  stop(name: string, reason?: StateReason): Promise<void>
}

export interface SchedulerOptions {
  engines: ScheduledEngines
  /** The current definitions (they change with the admin API). */
  models: () => readonly ModelDefinition[]
  now: () => number
  logger: Logger
  /** How often a drain looks whether its requests are done (default 250 ms). */
  drainPollMs?: number
}

/** A window's edge, as the events stream announces it. */
export type ScheduleEvent = Extract<AdminEvent, { type: 'schedule' }>

export interface Scheduler {
  /** Applies the schedules as of now: drains and stops models whose window is shut, then preloads opened ones. */
  tick(): Promise<void>
  /** Each model's window opening or shutting, from the tick that sees it on; returns the unsubscribe function. */
  subscribe(fn: (e: ScheduleEvent) => void): () => void
  close(): void
}

const DEFAULT_DRAIN_MS = 5 * 60_000
/** A timer never sleeps longer than this: a clock set forward, or a suspended machine, is caught up within it. */
const MAX_SLEEP_MS = 15 * 60_000

const ACTIVE = new Set(['starting', 'loading', 'running'])
const inFlight = (s: ModelStatus) => s.replicas.reduce((n, r) => n + r.inFlight, 0)

/**
 * Schedules (`schedule:` on a model): outside its windows a model is refused at admission (router), and here, at a
 * window's end, it drains — no new requests, in-flight ones get `drainTimeout` to finish, then it stops (cutting what
 * is left) — and at a window's start a `preload: true` model starts. Ends are handled before starts, so GPU memory
 * is free for what opens. A schedule beats `pinned`.
 */
export function createScheduler(o: SchedulerOptions): Scheduler {
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | null = null
  let closed = false
  const listeners = new Set<(e: ScheduleEvent) => void>()
  /** Whether each scheduled model's window was open at the last tick: an edge is a change of it. */
  const wasOpen = new Map<string, boolean>()
  const announce = (defs: readonly ModelDefinition[], now: number) => {
    for (const d of defs) {
      const open = isOpen(d.schedule!, now)
      const before = wasOpen.get(d.id)
      wasOpen.set(d.id, open)
      if (before === undefined || before === open) continue
      const e: ScheduleEvent = { type: 'schedule', id: d.id, name: d.name, open, nextChangeAt: nextChange(d.schedule!, now) }
      for (const fn of listeners) {
        try {
          fn(e)
        } catch (err) {
          o.logger.error({ err }, 'schedule event listener failed')
        }
      }
    }
  }

  const drain = async (def: ModelDefinition) => {
    const deadline = o.now() + (def.drainTimeoutMs ?? DEFAULT_DRAIN_MS)
    for (;;) {
      const status = o.engines.statuses().find((s) => s.id === def.id)
      if (!status || !ACTIVE.has(status.state) || inFlight(status) === 0 || o.now() >= deadline) break
      await new Promise((r) => setTimeout(r, o.drainPollMs ?? 250))
    }
    o.logger.info({ model: def.name }, 'schedule window ended: stopping model')
    await o.engines.stop(def.name, 'scheduled')
  }

  const apply = async () => {
    const now = o.now()
    const scheduled = o.models().filter((d) => d.schedule !== undefined && d.schedule.length > 0)
    announce(scheduled, now)
    const states = new Map(o.engines.statuses().map((s) => [s.id, s.state]))
    const shut = scheduled.filter((d) => !isOpen(d.schedule!, now) && ACTIVE.has(states.get(d.id) ?? 'stopped'))
    await Promise.all(shut.map((d) => drain(d).catch((err: unknown) => o.logger.error({ err, model: d.name }, 'drain failed'))))
    const opening = scheduled.filter(
      (d) => d.preload === true && isOpen(d.schedule!, now) && !ACTIVE.has(states.get(d.id) ?? 'stopped'),
    )
    for (const d of opening) {
      o.logger.info({ model: d.name }, 'schedule window opened: preloading model')
      // A failed preload is the model's state and diagnosis, announced like any start's.
      o.engines.start(d.name).catch(() => undefined)
    }
  }

  const arm = () => {
    clearTimeout(timer)
    if (closed) return
    const now = o.now()
    const changes = o
      .models()
      .flatMap((d) => (d.schedule && d.schedule.length > 0 ? [nextChange(d.schedule, now)] : []))
      .filter((t): t is number => t !== null)
    if (changes.length === 0) return
    timer = setTimeout(() => void scheduler.tick(), Math.min(MAX_SLEEP_MS, Math.max(0, Math.min(...changes) - now)))
    timer.unref()
  }

  const scheduler: Scheduler = {
    async tick() {
      running ??= apply().finally(() => {
        running = null
        arm()
      })
      return running
    },
    subscribe(fn) {
      listeners.add(fn)
      return () => void listeners.delete(fn)
    },
    close() {
      closed = true
      clearTimeout(timer)
    },
  }
  return scheduler
}
