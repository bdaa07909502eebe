import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import type { GpuSample } from '../contract/index.js'
import { memoryLogger } from '../http/fakes.test-support.js'
import { createSystemMonitor } from '../system/monitor.js'
import { parseGpuQuery } from '../system/nvidia-smi.js'
import { parseExposition, seriesOf, valueOf } from './exposition.test-support.js'
import { FakeEngines, FakeSystem, modelStatus } from './fakes.test-support.js'
import { createMetrics, type Metrics } from './registry.js'

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/support/fixtures/nvidia-smi')
const MiB = 1024 * 1024

/** The GPU as Cortex's own nvidia-smi query saw it on an H100 serving llama-server (the shared capture). */
function capturedGpus(): GpuSample[] {
  const csv = readFileSync(path.join(fixtures, 'h100-cortex-query/query-llama-server.csv'), 'utf8')
  return parseGpuQuery(csv).map((g) => ({ ...g, processes: null }))
}

const opened: Metrics[] = []
afterEach(() => {
  for (const m of opened.splice(0)) m.close()
})

function setup(gpus: GpuSample[] = []) {
  const engines = new FakeEngines()
  const system = new FakeSystem(gpus)
  const metrics = createMetrics({ engines, system })
  opened.push(metrics)
  const scrape = async () => parseExposition(await metrics.registry.metrics())
  return { engines, system, metrics, scrape }
}

describe('engine series', () => {
  it('write 1 for the state each model is in and 0 for every other state', async () => {
    const { engines, scrape } = setup()
    engines.models = [modelStatus('tiny', 'running'), modelStatus('big', 'failed')]
    const s = await scrape()
    expect(seriesOf(s, 'cortex_engine_state')).toHaveLength(12)
    expect(seriesOf(s, 'cortex_engine_state').filter((x) => x.value === 1)).toEqual([
      { labels: { model: 'tiny', state: 'running' }, value: 1 },
      { labels: { model: 'big', state: 'failed' }, value: 1 },
    ])
    expect(valueOf(s, 'cortex_engine_state', { model: 'tiny', state: 'stopped' })).toBe(0)
  })

  it('follow the manager at each scrape: a new state replaces the old, a removed model drops out', async () => {
    const { engines, scrape } = setup()
    engines.models = [modelStatus('tiny', 'loading'), modelStatus('big', 'running')]
    await scrape()
    engines.models = [modelStatus('tiny', 'running')]
    const s = await scrape()
    expect(valueOf(s, 'cortex_engine_state', { model: 'tiny', state: 'loading' })).toBe(0)
    expect(valueOf(s, 'cortex_engine_state', { model: 'tiny', state: 'running' })).toBe(1)
    expect(seriesOf(s, 'cortex_engine_state').some((x) => x.labels.model === 'big')).toBe(false)
  })

  it('add up the requests in flight on all of a model’s replicas', async () => {
    const { engines, scrape } = setup()
    engines.models = [modelStatus('tiny', 'running', [{ inFlight: 3 }, { inFlight: 2 }]), modelStatus('big', 'stopped')]
    const s = await scrape()
    expect(valueOf(s, 'cortex_in_flight_requests', { model: 'tiny' })).toBe(5)
    expect(valueOf(s, 'cortex_in_flight_requests', { model: 'big' })).toBe(0)
  })

  it('count a restart each time a replica goes from failed back to starting, and no other start', async () => {
    const { engines, scrape } = setup()
    engines.models = [modelStatus('tiny', 'running'), modelStatus('big', 'running')]
    // A first start, a death, two restarts (the first failing again), and an explicit stop of a failed replica.
    for (const state of ['starting', 'loading', 'running', 'failed', 'starting', 'failed', 'starting', 'running'] as const) {
      engines.emit('id-tiny', 'tiny', 0, state)
    }
    engines.emit('id-tiny', 'tiny', 1, 'starting')
    for (const state of ['starting', 'failed', 'stopped', 'starting'] as const) engines.emit('id-big', 'big', 0, state)
    const s = await scrape()
    expect(valueOf(s, 'cortex_engine_restarts_total', { model: 'tiny' })).toBe(2)
    expect(valueOf(s, 'cortex_engine_restarts_total', { model: 'big' })).toBe(0)
  })

  it('keep a model’s restart count under its new name, and stop following events once closed', async () => {
    const { engines, metrics, scrape } = setup()
    engines.models = [modelStatus('tiny', 'running')]
    engines.emit('id-tiny', 'tiny', 0, 'failed')
    engines.emit('id-tiny', 'tiny', 0, 'starting')
    engines.models = [{ ...modelStatus('tiny', 'running'), name: 'tiny-v2' }]
    expect(valueOf(await scrape(), 'cortex_engine_restarts_total', { model: 'tiny-v2' })).toBe(1)
    metrics.close()
    expect(engines.listeners.size).toBe(0)
  })
})

describe('GPU series', () => {
  it('come from the monitor’s latest sample, labelled by index, UUID and name', async () => {
    const { scrape } = setup(capturedGpus())
    const s = await scrape()
    const gpu = { gpu: '0', uuid: 'GPU-5cc11802-2925-d306-8cb2-48ec5728120e', name: 'NVIDIA H100 80GB HBM3' }
    expect(valueOf(s, 'cortex_gpu_utilization_ratio', gpu)).toBe(0)
    expect(valueOf(s, 'cortex_gpu_memory_used_bytes', gpu)).toBe(2707 * MiB)
    expect(valueOf(s, 'cortex_gpu_memory_total_bytes', gpu)).toBe(81559 * MiB)
    expect(valueOf(s, 'cortex_gpu_temperature_celsius', gpu)).toBe(40)
    expect(valueOf(s, 'cortex_gpu_power_watts', gpu)).toBe(129.44)
  })

  it('turn a utilization percentage into a ratio', async () => {
    const [gpu] = capturedGpus()
    const { scrape } = setup([{ ...gpu!, utilizationPercent: 45 }])
    expect(seriesOf(await scrape(), 'cortex_gpu_utilization_ratio')[0]!.value).toBe(0.45)
  })

  it('leave out a figure nvidia-smi could not read instead of writing 0', async () => {
    const [gpu] = capturedGpus()
    const { scrape } = setup([{ ...gpu!, powerDrawW: null, temperatureC: null }])
    const s = await scrape()
    expect(seriesOf(s, 'cortex_gpu_power_watts')).toEqual([])
    expect(seriesOf(s, 'cortex_gpu_temperature_celsius')).toEqual([])
    expect(seriesOf(s, 'cortex_gpu_memory_used_bytes')).toHaveLength(1)
  })

  it('are absent when the sample has no GPU, and follow the GPUs from one scrape to the next', async () => {
    const { system, scrape } = setup(capturedGpus())
    await scrape()
    system.gpus = []
    const s = await scrape()
    expect(s.filter((x) => x.name.startsWith('cortex_gpu_'))).toEqual([])
  })

  it('cost one nvidia-smi run per scrape at most, reusing a sample younger than the monitor’s interval', async () => {
    let reads = 0
    const monitor = createSystemMonitor({
      logger: memoryLogger().logger,
      attribute: async () => new Map(),
      // Long enough that the second scrape below always finds the first sample fresh.
      intervalMs: 600_000,
      readGpus: async () => (reads++, capturedGpus()),
      readGpuProcesses: async () => [],
      readHost: async () => ({ cpuLoadPercent: null, memory: { totalBytes: 1, usedBytes: 0, availableBytes: 1 }, disks: [] }),
    })
    const metrics = createMetrics({ engines: new FakeEngines(), system: monitor })
    opened.push(metrics)
    const first = parseExposition(await metrics.registry.metrics())
    expect(reads).toBe(1)
    expect(seriesOf(first, 'cortex_gpu_memory_used_bytes')).toHaveLength(1)
    await metrics.registry.metrics()
    expect(reads).toBe(1)
    await monitor.close()
  })
})
