import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { HostSample, ModelRef, SystemSample } from '../contract/index.js'
import { memoryLogger } from '../http/fakes.test-support.js'
import { TickAssembler } from './gpu-stream.js'
import { createSystemMonitor, type RunningSystemMonitor, type SystemMonitorOptions } from './monitor.js'
import { parseGpuQuery } from './nvidia-smi.js'

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/support/fixtures/nvidia-smi')
const standin = path.join(fixtures, 'standin')
const capture = (file: string) => readFileSync(path.join(fixtures, 'h100-cortex-query', file), 'utf8')
const MiB = 1024 * 1024
const LLAMA: ModelRef = { id: 'm-1', name: 'qwen2.5-7b' }
const HOST: HostSample = { cpuLoadPercent: 3, memory: { totalBytes: 8, usedBytes: 2, availableBytes: 6 }, disks: [] }
const INTERVAL = 100

let dir: string
let monitor: RunningSystemMonitor | undefined
const savedPath = process.env.PATH
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cortex-smi-'))
  // The stand-in (and the one-shot queries the monitor runs) are found on PATH, as the real nvidia-smi is.
  process.env.PATH = `${standin}${path.delimiter}${savedPath}`
  process.env.NVIDIA_SMI_LOG = path.join(dir, 'runs.log')
})
afterEach(async () => {
  await monitor?.close()
  monitor = undefined
  process.env.PATH = savedPath
  delete process.env.NVIDIA_SMI_LOG
  delete process.env.NVIDIA_SMI_EXIT_AFTER
  rmSync(dir, { recursive: true, force: true })
})

/** The stand-in's runs so far: pid and arguments. */
const runs = () => {
  const text = (() => {
    try {
      return readFileSync(path.join(dir, 'runs.log'), 'utf8')
    } catch {
      return ''
    }
  })()
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => ({ pid: Number(l.split(' ')[0]), args: l.split(' ').slice(1) }))
}
const streams = () => runs().filter((r) => r.args.includes('-lms'))

function start(overrides: Partial<SystemMonitorOptions> = {}) {
  const { logger, lines } = memoryLogger()
  monitor = createSystemMonitor({
    logger,
    intervalMs: INTERVAL,
    attribute: async (ps) => new Map(ps.filter((p) => p.pid === 4756).map((p) => [p.pid, LLAMA])),
    readHost: async () => HOST,
    streamBackoffMs: 50,
    ...overrides,
  })
  return { monitor, lines }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('SystemMonitor › one long-lived nvidia-smi -lms (the stand-in replays the H100 captures)', () => {
  it('keeps every tick while nobody watches: the GPUs’ figures of the captures in turn, one process in all', async () => {
    const { monitor } = start()
    await vi.waitFor(() => expect(monitor.history().length).toBeGreaterThanOrEqual(4), { timeout: 3000 })
    const [idle, serving] = [parseGpuQuery(capture('query-idle.csv'))[0]!, parseGpuQuery(capture('query-llama-server.csv'))[0]!]
    const h = monitor.history()
    expect(h.slice(0, 4).map((s) => s.gpus[0]!.memoryUsedBytes)).toEqual([0, 2707 * MiB, 0, 2707 * MiB])
    expect(h[0]).toEqual({ at: h[0]!.at, gpus: [{ ...idle, processes: null }], host: null, error: null })
    expect(h[1]!.gpus[0]).toEqual({ ...serving, processes: null })
    // About an interval apart, as nvidia-smi prints them.
    const gaps = h.slice(1).map((s, i) => s.at - h[i]!.at)
    for (const gap of gaps) expect(gap).toBeGreaterThan(INTERVAL * 0.5)
    expect(streams()).toHaveLength(1)
    expect(streams()[0]!.args).toEqual([
      '--query-gpu=index,uuid,name,memory.total,memory.used,memory.free,utilization.gpu,temperature.gpu,power.draw,power.limit',
      '--format=csv,noheader,nounits',
      '-lms',
      String(INTERVAL),
    ])
    // No one-shot GPU query was needed.
    expect(runs()).toHaveLength(1)
    expect((await monitor.snapshot()).gpus).toEqual([
      { index: 0, uuid: idle.uuid, name: 'NVIDIA H100 80GB HBM3', memoryTotalBytes: 81559 * MiB },
    ])
  })

  it('while someone watches, completes each tick with the processes, their models and the host, and announces it', async () => {
    const { monitor } = start()
    const seen: SystemSample[] = []
    const off = monitor.subscribe((s) => seen.push(s))
    await vi.waitFor(() => expect(seen.length).toBeGreaterThanOrEqual(2), { timeout: 3000 })
    off()
    const sample = seen.at(-1)!
    expect(sample.host).toEqual(HOST)
    expect(sample.gpus[0]!.processes).toEqual([
      { pid: 4756, processName: '/tmp/cortex-vram/build/bin/llama-server', usedBytes: 2698 * MiB, model: LLAMA },
    ])
    expect(monitor.history()).toContain(sample)
    // The GPU figures still come from the stream: the one-shot runs are the process lists only.
    expect(
      runs()
        .filter((r) => !r.args.includes('-lms'))
        .every((r) => r.args[0]!.startsWith('--query-compute-apps=')),
    ).toBe(true)
    expect(streams()).toHaveLength(1)
  })

  it('keeps the last historySize ticks', async () => {
    const { monitor } = start({ historySize: 3 })
    await vi.waitFor(() => expect(streams().length).toBe(1))
    await new Promise((r) => setTimeout(r, INTERVAL * 6))
    const h = monitor.history()
    expect(h).toHaveLength(3)
    expect(h[0]!.at).toBeLessThan(h[2]!.at)
  })

  it('restarts a stream that died, after a backoff, and tells the watchers why meanwhile', async () => {
    process.env.NVIDIA_SMI_EXIT_AFTER = '2'
    const { monitor, lines } = start()
    const seen: SystemSample[] = []
    monitor.subscribe((s) => seen.push(s))
    await vi.waitFor(() => expect(streams().length).toBeGreaterThanOrEqual(3), { timeout: 5000 })
    const failed = seen.find((s) => s.error !== null)
    expect(failed).toMatchObject({ gpus: [] })
    expect(failed!.error).toMatch(/nvidia-smi stopped \(exit 1\): stand-in nvidia-smi: exiting as NVIDIA_SMI_EXIT_AFTER asks/)
    expect(lines.some((l) => /stopped \(exit 1\)/.test(String(l.msg)) && l.retryInMs === 50)).toBe(true)
    // Each run gave its two ticks: the ring goes on after a restart.
    await vi.waitFor(() => expect(monitor.history().filter((s) => s.gpus.length > 0).length).toBeGreaterThanOrEqual(4))
  })

  it('close() ends nvidia-smi', async () => {
    const { monitor } = start()
    await vi.waitFor(() => expect(streams().length).toBe(1))
    const { pid } = streams()[0]!
    await vi.waitFor(() => expect(monitor.history().length).toBeGreaterThan(0))
    expect(alive(pid)).toBe(true)
    await monitor.close()
    expect(alive(pid)).toBe(false)
  })

  it('without nvidia-smi on PATH: no process, no GPUs, and no error', async () => {
    process.env.PATH = dir
    const { monitor } = start()
    const sample = await monitor.latest()
    expect(sample).toMatchObject({ gpus: [], host: HOST, error: null })
    await new Promise((r) => setTimeout(r, INTERVAL * 3))
    expect(runs()).toEqual([])
    // Only the sample asked for: nothing is sampled while nobody watches.
    expect(monitor.history()).toHaveLength(1)
  })
})

describe('TickAssembler', () => {
  const line = (index: number, used: number) =>
    `${index}, GPU-${index}, NVIDIA H100 80GB HBM3, 81559, ${used}, ${81079 - used}, 0, 38, 73.08, 700.00`

  it('ends a tick when a GPU index comes again, or when told (the quiet after the last GPU)', () => {
    const ticks: Array<{ at: number; used: Array<number | null> }> = []
    let t = 0
    const a = new TickAssembler(
      (at, gpus) => ticks.push({ at, used: gpus.map((g) => g.memoryUsedBytes! / MiB) }),
      () => t,
    )
    a.line(line(0, 1))
    t = 5
    a.line(line(1, 2))
    t = 2000
    a.line(line(0, 3))
    a.line(line(1, 4))
    a.flush()
    a.flush()
    expect(ticks).toEqual([
      { at: 0, used: [1, 2] },
      { at: 2000, used: [3, 4] },
    ])
  })

  it('throws for a line that is not the query’s', () => {
    const a = new TickAssembler(() => {})
    expect(() => a.line('Unable to determine the device handle for GPU0000:00:06.0: Unknown Error')).toThrow(/expected 10 fields/)
  })
})
