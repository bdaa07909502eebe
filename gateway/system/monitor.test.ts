import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { HostInfo, HostSample, ModelRef, SystemSample } from '../contract/index.js'
import { findExecutable } from '../engines/process/os.js'
import { memoryLogger } from '../http/fakes.test-support.js'
import { createAttribution } from './attribute.js'
import { NvidiaSmiError } from './gpus.js'
import { createSystemMonitor, type SystemMonitorOptions } from './monitor.js'
import { parseAppsQuery, parseGpuQuery, type GpuProcess, type GpuSample } from './nvidia-smi.js'

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/support/fixtures/nvidia-smi')
const capture = (file: string) => readFileSync(path.join(fixtures, 'h100-cortex-query', file), 'utf8')
const MiB = 1024 * 1024
const LLAMA: ModelRef = { id: 'm-1', name: 'qwen2.5-7b' }
const HOST: HostSample = {
  cpuLoadPercent: 12.5,
  memory: { totalBytes: 64 * 1024 * MiB, usedBytes: 8 * 1024 * MiB, availableBytes: 56 * 1024 * MiB },
  disks: [],
}
const HOST_INFO: HostInfo = { cpu: { model: 'AMD EPYC 9654', cores: 192, physicalCores: 96 }, memoryTotalBytes: 64 * 1024 * MiB }
const SMI_DOWN = new NvidiaSmiError(
  "nvidia-smi failed (9): NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
  '',
)

/** A monitor over stand-ins that count their calls and answer what `io` holds (the llama-server capture at first). */
function setup(overrides: Partial<SystemMonitorOptions> = {}) {
  const calls = { gpus: 0, apps: 0, host: 0, hostInfo: 0, attribute: 0 }
  const io = {
    gpus: async (): Promise<GpuSample[]> => parseGpuQuery(capture('query-llama-server.csv')),
    apps: async (): Promise<GpuProcess[]> => parseAppsQuery(capture('apps-llama-server.csv')),
    host: async (): Promise<HostSample> => HOST,
    hostInfo: async (): Promise<HostInfo> => HOST_INFO,
    attribute: async (ps: GpuProcess[]) => new Map(ps.filter((p) => p.pid === 4756).map((p) => [p.pid, LLAMA])),
  }
  const { logger, lines } = memoryLogger()
  const monitor = createSystemMonitor({
    logger,
    intervalMs: 2000,
    nvidiaSmi: null,
    readGpus: () => (calls.gpus++, io.gpus()),
    readGpuProcesses: () => (calls.apps++, io.apps()),
    readHost: () => (calls.host++, io.host()),
    readHostInfo: () => (calls.hostInfo++, io.hostInfo()),
    attribute: (ps) => (calls.attribute++, io.attribute(ps)),
    ...overrides,
  })
  return { monitor, io, calls, lines }
}

describe('createSystemMonitor', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    vi.setSystemTime(1_700_000_000_000)
  })
  afterEach(() => vi.useRealTimers())

  it('samples each GPU’s figures with the processes on it and the models they serve, and the host', async () => {
    const { monitor } = setup()
    expect(await monitor.latest()).toEqual({
      at: 1_700_000_000_000,
      gpus: [
        {
          index: 0,
          uuid: 'GPU-5cc11802-2925-d306-8cb2-48ec5728120e',
          name: 'NVIDIA H100 80GB HBM3',
          memoryTotalBytes: 81559 * MiB,
          memoryUsedBytes: 2707 * MiB,
          memoryFreeBytes: 78373 * MiB,
          utilizationPercent: 0,
          temperatureC: 40,
          powerDrawW: 129.44,
          powerLimitW: 700,
          processes: [{ pid: 4756, processName: '/tmp/cortex-vram/build/bin/llama-server', usedBytes: 2698 * MiB, model: LLAMA }],
        },
      ],
      host: HOST,
      error: null,
    })
  })

  it('without nvidia-smi: no GPUs, and no error', async () => {
    const { monitor, io, calls } = setup()
    io.gpus = async () => []
    io.apps = async () => []
    expect(await monitor.latest()).toMatchObject({ gpus: [], host: HOST, error: null })
    expect(calls.attribute).toBe(0)
    expect((await monitor.snapshot()).gpus).toEqual([])
  })

  it('with nvidia-smi failing: no GPUs and its reason, the GPUs of the sample before not repeated', async () => {
    const { monitor, io } = setup()
    await monitor.latest()
    io.gpus = () => Promise.reject(SMI_DOWN)
    io.apps = () => Promise.reject(SMI_DOWN)
    vi.advanceTimersByTime(2000)
    const failed = await monitor.latest()
    expect(failed).toMatchObject({ gpus: [], host: HOST, error: SMI_DOWN.message })
    expect(monitor.history().map((s) => s.gpus.length)).toEqual([1, 0])
  })

  it('with the process list unreadable: the GPUs with processes null (unknown, not none), and why', async () => {
    const { monitor, io } = setup()
    io.apps = async () => parseAppsQuery('No devices were found')
    const sample = await monitor.latest()
    expect(sample.gpus[0]).toMatchObject({ memoryUsedBytes: 2707 * MiB, processes: null })
    expect(sample.error).toMatch(/^could not read nvidia-smi's output: .*No devices were found/)
  })

  it('with attribution failing: the processes without a model, and why', async () => {
    const { monitor, io } = setup()
    io.attribute = () => Promise.reject(new Error('connect ECONNREFUSED /var/run/docker.sock'))
    const sample = await monitor.latest()
    expect(sample.gpus[0]!.processes).toEqual([expect.objectContaining({ pid: 4756, model: null })])
    expect(sample.error).toBe('could not tell which models use the GPUs: connect ECONNREFUSED /var/run/docker.sock')
  })

  it('gives up waiting for CPU, memory and disks after the deadline, and joins the hung read rather than start another', async () => {
    const { monitor, io, calls } = setup({ hostTimeoutMs: 10_000 })
    io.host = () => new Promise(() => {})
    const first = monitor.latest()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(await first).toMatchObject({
      gpus: [expect.objectContaining({ index: 0 })],
      host: null,
      error: 'could not read CPU, memory and disks: reading CPU, memory and disks took longer than 10000 ms',
    })
    const second = monitor.latest()
    await vi.advanceTimersByTimeAsync(10_000)
    expect((await second).host).toBe(null)
    expect([calls.gpus, calls.host]).toEqual([2, 1])
  })

  it('samples in a loop only while someone is subscribed, an interval after each sample ended', async () => {
    const { monitor, io, calls } = setup()
    // nvidia-smi takes half a second to answer.
    const read = io.gpus
    io.gpus = () => new Promise((resolve) => setTimeout(() => resolve(read()), 500))
    const seen: SystemSample[] = []
    const unsubscribe = monitor.subscribe((s) => seen.push(s))
    await vi.advanceTimersByTimeAsync(500)
    expect([calls.gpus, seen.length]).toEqual([1, 1])
    await vi.advanceTimersByTimeAsync(1999)
    expect(calls.gpus).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(calls.gpus).toBe(2)
    await vi.advanceTimersByTimeAsync(500)
    expect(seen.map((s) => s.at)).toEqual([1_700_000_000_000, 1_700_000_002_500])

    // 2.2 s after the last sample began, with the next one due: a request takes the last one rather than read again.
    await vi.advanceTimersByTimeAsync(1700)
    expect(await monitor.latest()).toBe(seen[1])
    unsubscribe()
    await vi.advanceTimersByTimeAsync(60_000)
    expect([calls.gpus, calls.apps, calls.host, seen.length]).toEqual([2, 2, 2, 2])
  })

  it('while idle, reads on request: one reading for concurrent requests, reused within an interval', async () => {
    const { monitor, calls } = setup()
    const [a, b] = await Promise.all([monitor.latest(), monitor.latest()])
    expect(a).toBe(b)
    await vi.advanceTimersByTimeAsync(1999)
    expect(await monitor.latest()).toBe(a)
    expect(calls.gpus).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect((await monitor.latest()).at).toBe(1_700_000_002_000)
    expect(calls.gpus).toBe(2)
  })

  it('keeps the last historySize samples, oldest first', async () => {
    const { monitor } = setup({ historySize: 2 })
    for (let i = 0; i < 3; i++) {
      await monitor.latest()
      vi.advanceTimersByTime(2000)
    }
    expect(monitor.history().map((s) => s.at)).toEqual([1_700_000_002_000, 1_700_000_004_000])
  })

  it('reads the hardware once: the host’s facts, and the GPUs of the first sample', async () => {
    const { monitor, io, calls } = setup()
    io.hostInfo = () => Promise.reject(new Error('lscpu crashed'))
    await expect(monitor.snapshot()).rejects.toThrow('lscpu crashed')
    io.hostInfo = async () => HOST_INFO
    const expected = {
      ...HOST_INFO,
      gpus: [
        {
          index: 0,
          uuid: 'GPU-5cc11802-2925-d306-8cb2-48ec5728120e',
          name: 'NVIDIA H100 80GB HBM3',
          memoryTotalBytes: 81559 * MiB,
        },
      ],
    }
    expect(await monitor.snapshot()).toEqual(expected)
    io.gpus = () => Promise.reject(SMI_DOWN)
    vi.advanceTimersByTime(60_000)
    expect(await monitor.snapshot()).toEqual(expected)
    expect([calls.hostInfo, calls.gpus]).toEqual([2, 1])
  })

  it('logs a subscriber that throws; the others still get every sample', async () => {
    const { monitor, lines } = setup()
    const seen: number[] = []
    monitor.subscribe(() => {
      throw new Error('listener bug')
    })
    monitor.subscribe((s) => seen.push(s.at))
    await vi.advanceTimersByTimeAsync(2000)
    expect(seen).toHaveLength(2)
    expect(lines.filter((l) => l.msg === 'system sample listener failed')).toHaveLength(2)
  })

  it('close() stops the loop and waits for the sample in progress', async () => {
    const { monitor, io, calls } = setup()
    let finish!: (gpus: GpuSample[]) => void
    io.gpus = () => new Promise((resolve) => (finish = resolve))
    monitor.subscribe(() => {})
    await vi.advanceTimersByTimeAsync(0)
    expect(calls.gpus).toBe(1)
    let closed = false
    const closing = monitor.close().then(() => (closed = true))
    await vi.advanceTimersByTimeAsync(0)
    expect(closed).toBe(false)
    finish([])
    await closing
    await vi.advanceTimersByTimeAsync(60_000)
    expect(calls.gpus).toBe(1)
  })
})

describe('createSystemMonitor on this machine (real nvidia-smi if any, real systeminformation)', () => {
  it('samples this host; without nvidia-smi there are no GPUs and no error', async () => {
    const monitor = createSystemMonitor({ attribute: createAttribution({ statuses: () => [] }), logger: memoryLogger().logger })
    try {
      const [sample, snapshot] = await Promise.all([monitor.latest(), monitor.snapshot()])
      const nvidiaSmi = await findExecutable('nvidia-smi')
      if (nvidiaSmi === null) {
        expect(sample.gpus).toEqual([])
        expect(sample.error).toBe(null)
      } else {
        expect(sample.gpus.length).toBeGreaterThan(0)
        expect(sample.gpus[0]!.memoryTotalBytes).toBeGreaterThan(0)
      }
      expect(snapshot.gpus).toHaveLength(sample.gpus.length)
      expect(snapshot.cpu.cores).toBeGreaterThanOrEqual(1)
      expect(sample.host!.memory.totalBytes).toBe(snapshot.memoryTotalBytes)
      expect(sample.host!.cpuLoadPercent).toBeGreaterThanOrEqual(0)
      expect(sample.host!.disks.length).toBeGreaterThanOrEqual(1)
    } finally {
      await monitor.close()
    }
  })
})
