import type { Logger } from 'pino'
import type { GpuInfo, GpuSample, HostInfo, HostSample, ModelRef, SystemSample, SystemSnapshot } from '../contract/index.js'
import type { Attribute } from './attribute.js'
import { NvidiaSmiError, readGpuProcesses, readGpus } from './gpus.js'
import { readHost, readHostInfo } from './host.js'
import type { GpuProcess, GpuSample as NvidiaGpu } from './nvidia-smi.js'

/**
 * The GPUs and the host: hardware read once, live samples in a ring. Reading never throws for want of a GPU: no
 * nvidia-smi means no GPUs, and a failing one leaves a sample with `gpus: []` and an `error`.
 */
export interface SystemMonitor {
  /** The hardware: CPU, total memory, and the GPUs of the first reading. */
  snapshot(): Promise<SystemSnapshot>
  /** The newest sample, taken now when the last one is older than the sampling interval. */
  latest(): Promise<SystemSample>
  /** Recent samples, oldest first (only from times someone was looking). */
  history(): SystemSample[]
  /** A sample every interval while anyone is subscribed; returns the unsubscribe function. */
  subscribe(fn: (sample: SystemSample) => void): () => void
}

export interface SystemMonitorOptions {
  /** Which model each GPU process serves (attribute.ts over the engine manager and the Docker runtime). */
  attribute: Attribute
  logger: Logger
  /** Time between the end of one sample and the start of the next while someone watches (default 2 s). */
  intervalMs?: number
  /** Samples kept for charts (default 300: ten minutes at 2 s). */
  historySize?: number
  /** How long a sample waits for CPU, memory and disk figures (default 10 s). */
  hostTimeoutMs?: number
  readGpus?: () => Promise<NvidiaGpu[]>
  readGpuProcesses?: () => Promise<GpuProcess[]>
  readHost?: () => Promise<HostSample>
  readHostInfo?: () => Promise<HostInfo>
}

export interface RunningSystemMonitor extends SystemMonitor {
  /** Stops sampling and waits for a sample in progress. */
  close(): Promise<void>
}

/**
 * The GPU and host monitor. It costs nothing while nobody looks: samples are taken in a loop only while someone is
 * subscribed (an open `/events` stream), and otherwise on demand, when `latest()` finds the last one older than an
 * interval. Every sample goes into a bounded ring (`history()`), so charts show the times someone watched.
 */
export function createSystemMonitor(opts: SystemMonitorOptions): RunningSystemMonitor {
  const intervalMs = opts.intervalMs ?? 2000
  const historySize = opts.historySize ?? 300
  const gpus = opts.readGpus ?? (() => readGpus())
  const apps = opts.readGpuProcesses ?? (() => readGpuProcesses())
  const host = patiently(opts.readHost ?? readHost, opts.hostTimeoutMs ?? 10_000, 'reading CPU, memory and disks')
  const history: SystemSample[] = []
  const listeners = new Set<(sample: SystemSample) => void>()
  let hostInfo: Promise<HostInfo> | undefined
  // The GPUs of the first sample that could read them: the hardware part of the snapshot.
  let gpuInfo: GpuInfo[] | undefined
  let inflight: Promise<SystemSample> | undefined
  let timer: NodeJS.Timeout | undefined
  let closed = false

  const read = async (): Promise<SystemSample> => {
    const at = Date.now()
    const [gpuRead, appRead, hostRead] = await Promise.allSettled([gpus(), apps(), host()])
    const errors = new Set<string>()
    let models = new Map<number, ModelRef>()
    if (appRead.status === 'fulfilled' && appRead.value.length > 0) {
      try {
        models = await opts.attribute(appRead.value)
      } catch (err) {
        errors.add(`could not tell which models use the GPUs: ${messageOf(err)}`)
      }
    }
    for (const r of [gpuRead, appRead]) if (r.status === 'rejected') errors.add(gpuError(r.reason))
    if (hostRead.status === 'rejected') errors.add(`could not read CPU, memory and disks: ${messageOf(hostRead.reason)}`)

    const sample: SystemSample = {
      at,
      gpus: gpuRead.status === 'fulfilled' ? gpuRead.value.map((g) => withProcesses(g, appRead, models)) : [],
      host: hostRead.status === 'fulfilled' ? hostRead.value : null,
      error: errors.size > 0 ? [...errors].join('; ') : null,
    }
    if (gpuRead.status === 'fulfilled') {
      gpuInfo ??= gpuRead.value.map(({ index, uuid, name, memoryTotalBytes }) => ({ index, uuid, name, memoryTotalBytes }))
    }
    history.push(sample)
    if (history.length > historySize) history.shift()
    for (const fn of listeners) {
      try {
        fn(sample)
      } catch (err) {
        opts.logger.error({ err }, 'system sample listener failed')
      }
    }
    return sample
  }

  // One sample at a time: a request that arrives during one shares it. `read` never rejects.
  const take = () => (inflight ??= read().finally(() => (inflight = undefined)))

  // The next poll is scheduled only once the last one finished, so a slow nvidia-smi never piles up (STYLE.md §9).
  const loop = async () => {
    timer = undefined
    await take()
    if (listeners.size > 0 && timer === undefined && !closed) {
      timer = setTimeout(() => void loop(), intervalMs)
      timer.unref()
    }
  }

  const latest = (): Promise<SystemSample> => {
    const last = history.at(-1)
    // While the loop waits for its next turn, the last sample is at most an interval old.
    if (last && (timer !== undefined || Date.now() - last.at < intervalMs)) return Promise.resolve(last)
    return take()
  }

  return {
    latest,
    history: () => [...history],
    async snapshot() {
      hostInfo ??= (opts.readHostInfo ?? readHostInfo)().catch((err: unknown) => {
        hostInfo = undefined
        throw err
      })
      // Until a sample has read the GPUs, one is taken for them (it also says why, when nvidia-smi fails).
      const [info] = await Promise.all([hostInfo, gpuInfo === undefined ? latest() : null])
      return { ...info, gpus: gpuInfo ?? [] }
    },
    subscribe(fn) {
      listeners.add(fn)
      if (listeners.size === 1) void loop()
      return () => {
        listeners.delete(fn)
        if (listeners.size > 0) return
        clearTimeout(timer)
        timer = undefined
      }
    },
    async close() {
      closed = true
      clearTimeout(timer)
      timer = undefined
      listeners.clear()
      await inflight
    },
  }
}

function withProcesses(gpu: NvidiaGpu, apps: PromiseSettledResult<GpuProcess[]>, models: Map<number, ModelRef>): GpuSample {
  const processes =
    apps.status === 'fulfilled'
      ? apps.value
          .filter((p) => p.gpuUuid === gpu.uuid)
          .map((p) => ({
            pid: p.pid,
            processName: p.processName,
            usedBytes: p.usedMemoryBytes,
            model: models.get(p.pid) ?? null,
          }))
      : null
  return { ...gpu, processes }
}

function gpuError(err: unknown): string {
  // NvidiaSmiError already says what failed and what nvidia-smi said; a parse error only names the odd line.
  return err instanceof NvidiaSmiError ? err.message : `could not read nvidia-smi's output: ${messageOf(err)}`
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err))

/**
 * `read` with a deadline per call. A read still running past it is joined by the next call instead of starting
 * another: systeminformation's disks come from `df`, which waits forever on a hung network mount, and a new `df` per
 * sample would pile up.
 */
function patiently<T>(read: () => Promise<T>, ms: number, what: string): () => Promise<T> {
  let pending: Promise<T> | undefined
  return () => {
    pending ??= read().finally(() => (pending = undefined))
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)
    })
    return Promise.race([pending, deadline]).finally(() => clearTimeout(timer))
  }
}
