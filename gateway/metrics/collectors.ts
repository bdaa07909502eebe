import { Counter, Gauge, type Registry } from 'prom-client'
import type { EngineState, GpuSample } from '../contract/index.js'
import type { EngineManager } from '../engines/manager.js'
import type { SystemMonitor } from '../system/monitor.js'

export type EngineSource = Pick<EngineManager, 'statuses' | 'subscribe'>
export type GpuSource = Pick<SystemMonitor, 'latest'>

const STATES: readonly EngineState[] = ['stopped', 'starting', 'loading', 'running', 'stopping', 'failed']

/**
 * Engine series, read from the manager when Prometheus scrapes. Every state of every model is written (1 for the
 * current one, 0 for the others), so `cortex_engine_state{state="failed"} == 1` finds failed models without gaps.
 * Returns the function that stops counting restarts.
 */
export function registerEngineMetrics(registers: Registry[], engines: EngineSource): () => void {
  // The manager keeps no restart count, so one is kept here from its events (engine transitions, never the request
  // path). A restart is a replica going from `failed` back to `starting`: the restart rule of ARCHITECTURE.md.
  const last = new Map<string, EngineState>()
  const restarts = new Map<string, number>()
  const unsubscribe = engines.subscribe((e) => {
    if (e.replica === undefined) return
    const key = `${e.id}/${e.replica.index}`
    if (e.replica.state === 'starting' && last.get(key) === 'failed') restarts.set(e.id, (restarts.get(e.id) ?? 0) + 1)
    last.set(key, e.replica.state)
  })

  new Gauge({
    name: 'cortex_engine_state',
    help: `1 for the state each model is in, 0 for the others (${STATES.join(', ')})`,
    labelNames: ['model', 'state'] as const,
    registers,
    collect() {
      this.reset()
      for (const s of engines.statuses())
        for (const state of STATES) this.set({ model: s.name, state }, s.state === state ? 1 : 0)
    },
  })
  new Gauge({
    name: 'cortex_in_flight_requests',
    help: 'Requests holding a slot on one of the model’s replicas',
    labelNames: ['model'] as const,
    registers,
    collect() {
      this.reset()
      for (const s of engines.statuses())
        this.set(
          { model: s.name },
          s.replicas.reduce((n, r) => n + r.inFlight, 0),
        )
    },
  })
  new Gauge({
    name: 'cortex_queued_requests',
    help: 'Requests waiting in the model’s queue for a free slot',
    labelNames: ['model'] as const,
    registers,
    collect() {
      this.reset()
      for (const s of engines.statuses()) this.set({ model: s.name }, s.queued)
    },
  })
  new Counter({
    name: 'cortex_engine_restarts_total',
    help: 'Replicas started again after they failed',
    labelNames: ['model'] as const,
    registers,
    // Rebuilt from the ids at each scrape: a renamed model keeps its count, a removed one drops out.
    collect() {
      this.reset()
      for (const s of engines.statuses()) this.inc({ model: s.name }, restarts.get(s.id) ?? 0)
    },
  })
  return unsubscribe
}

const GPU_SERIES: ReadonlyArray<{ name: string; help: string; value: (g: GpuSample) => number | null }> = [
  {
    name: 'cortex_gpu_utilization_ratio',
    help: 'Share of the last sample period the GPU was busy (nvidia-smi utilization.gpu / 100)',
    value: (g) => (g.utilizationPercent === null ? null : g.utilizationPercent / 100),
  },
  { name: 'cortex_gpu_memory_used_bytes', help: 'GPU memory in use', value: (g) => g.memoryUsedBytes },
  { name: 'cortex_gpu_memory_total_bytes', help: 'GPU memory in all', value: (g) => g.memoryTotalBytes },
  { name: 'cortex_gpu_temperature_celsius', help: 'GPU core temperature', value: (g) => g.temperatureC },
  { name: 'cortex_gpu_power_watts', help: 'GPU power draw', value: (g) => g.powerDrawW },
]

/**
 * GPU series from the system monitor's latest sample: `latest()` reuses a sample younger than its interval and joins
 * one in progress, so the five collectors of one scrape cost one nvidia-smi run at most. A figure nvidia-smi could
 * not read is left out (never a made-up 0); no GPU, no series.
 */
export function registerGpuMetrics(registers: Registry[], system: GpuSource): void {
  for (const { name, help, value } of GPU_SERIES) {
    new Gauge({
      name,
      help,
      labelNames: ['gpu', 'uuid', 'name'] as const,
      registers,
      async collect() {
        const { gpus } = await system.latest()
        this.reset()
        for (const g of gpus) {
          const v = value(g)
          if (v !== null) this.set({ gpu: g.index, uuid: g.uuid, name: g.name }, v)
        }
      },
    })
  }
}
