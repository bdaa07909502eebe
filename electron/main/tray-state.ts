import type { AdminEvent, ModelView } from '../../gateway/contract/admin.js'
import type { SystemSample } from '../../gateway/contract/system.js'

/** What the tray knows, fed by the admin events stream: a snapshot replaces it, each event updates it. */
export interface TrayModels {
  /** null until the stream's snapshot arrives (and again while it reconnects). */
  models: ModelView[] | null
  gpuBytes: ReadonlyMap<string, number> | null
}

export const DISCONNECTED: TrayModels = { models: null, gpuBytes: null }

/** The next state after one event (pure; `now` dates the start of a load the event reports). */
export function applyEvent(state: TrayModels, event: AdminEvent, now: number): TrayModels {
  switch (event.type) {
    case 'snapshot':
      return { ...state, models: event.models }
    case 'model_updated':
      return withModels(state, (models) => {
        const at = models.findIndex((m) => m.id === event.model.id)
        return at === -1 ? [...models, event.model] : models.map((m, i) => (i === at ? event.model : m))
      })
    case 'model_removed':
      return withModels(state, (models) => models.filter((m) => m.id !== event.id))
    case 'model_state':
      return withModels(state, (models) =>
        models.map((m) => {
          if (m.id !== event.id) return m
          const loading = event.state === 'starting' || event.state === 'loading'
          const wasLoading = m.status.state === 'starting' || m.status.state === 'loading'
          return {
            ...m,
            status: {
              ...m.status,
              state: event.state,
              startingSince: loading ? (wasLoading ? m.status.startingSince : now) : null,
              diagnosis: event.diagnosis ?? m.status.diagnosis,
            },
          }
        }),
      )
    case 'gpu_sample':
      return { ...state, gpuBytes: gpuBytesByModel(event.sample) }
    default:
      // Docker status, pull progress, schedule edges (the next snapshot carries them), and any event a newer
      // gateway adds: nothing the tray shows.
      return state
  }
}

function withModels(state: TrayModels, change: (models: ModelView[]) => ModelView[]): TrayModels {
  return state.models === null ? state : { ...state, models: change(state.models) }
}

/** GPU memory held by each model's engine processes, summed over GPUs; null when no GPU listed its processes. */
export function gpuBytesByModel(sample: SystemSample): Map<string, number> | null {
  const bytes = new Map<string, number>()
  let known = false
  for (const gpu of sample.gpus) {
    if (gpu.processes === null) continue
    known = true
    for (const p of gpu.processes) {
      if (p.model !== null && p.usedBytes !== null) bytes.set(p.model.id, (bytes.get(p.model.id) ?? 0) + p.usedBytes)
    }
  }
  return known ? bytes : null
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/**
 * Coalesces rebuilds: a burst of events (a switch stops one model and starts another, GPU samples every 2 s) gives
 * one rebuild `delayMs` after the first, never one per event. `ticking()` asks for a rebuild every second while a
 * model loads, so its elapsed time moves.
 */
export function createRebuilder(
  rebuild: () => void,
  ticking: () => boolean,
  timers: Timers = { setTimeout, clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
  delayMs = 150,
): { schedule(): void; close(): void } {
  let pending: unknown = null
  let tick: unknown = null
  let closed = false
  const run = () => {
    pending = null
    rebuild()
    if (ticking() && tick === null && !closed) {
      tick = timers.setTimeout(() => {
        tick = null
        schedule()
      }, 1000)
    }
  }
  const schedule = () => {
    if (closed || pending !== null) return
    pending = timers.setTimeout(run, delayMs)
  }
  return {
    schedule,
    close: () => {
      closed = true
      if (pending !== null) timers.clearTimeout(pending)
      if (tick !== null) timers.clearTimeout(tick)
    },
  }
}
