import type { Logger } from 'pino'
import { findExecutable } from '../engines/process/os.js'
import type { GpuInfo, GpuSample, HostInfo, HostSample, ModelRef, SystemSample, SystemSnapshot } from '../contract/index.js'
import type { CortexInfo } from '../contract/console.js'
import type { Attribute } from './attribute.js'
import { cortexInfoReader, type CortexFacts } from './cortex.js'
import { NvidiaSmiError, readGpuProcesses, readGpus } from './gpus.js'
import { startGpuStream, type GpuStream } from './gpu-stream.js'
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
  /** Recent samples, oldest first: with nvidia-smi, one per interval for the last hour (`host` and `processes`
   *  only while someone watched); without it, the samples taken while someone watched. */
  history(): SystemSample[]
  /** A sample every interval while anyone is subscribed; returns the unsubscribe function. */
  subscribe(fn: (sample: SystemSample) => void): () => void
  /** Cortex's version, data directory, llama-server and Docker; null when the core did not pass `cortex`. */
  cortex(): Promise<CortexInfo | null>
}

export interface SystemMonitorOptions {
  /** Which model each GPU process serves (attribute.ts over the engine manager and the Docker runtime). */
  attribute: Attribute
  logger: Logger
  /** Time between the end of one sample and the start of the next while someone watches (default 2 s). */
  intervalMs?: number
  /** Samples kept for charts (default 1800: an hour at 2 s). */
  historySize?: number
  /**
   * The nvidia-smi whose `-lms` stream feeds the GPU figures and the history; default `nvidia-smi` found on PATH,
   * and no stream without one. null: no stream, GPU figures only from `readGpus` when a sample is taken.
   */
  nvidiaSmi?: string | null
  /** First restart delay of a stream that died (default 1 s, doubling to 60 s). */
  streamBackoffMs?: number
  /** What `cortex()` tells: the core's data directory, llama-server setting and Docker status. */
  cortex?: CortexFacts
  /** How long a sample waits for CPU, memory and disk figures (default 10 s). */
  hostTimeoutMs?: number
  readGpus?: () => Promise<NvidiaGpu[]>
  readGpuProcesses?: () => Promise<GpuProcess[]>
  readHost?: () => Promise<HostSample>
  readHostInfo?: () => Promise<HostInfo>
}

export interface RunningSystemMonitor extends SystemMonitor {
  /** Stops sampling and the nvidia-smi stream, and waits for a sample in progress. */
  close(): Promise<void>
}

/**
 * The GPU and host monitor. Where nvidia-smi exists, one long-lived `nvidia-smi -lms` process (gpu-stream.ts) gives
 * every GPU's figures each interval for as long as Cortex runs, so the history holds the last hour and a reload
 * draws its charts at once. Each tick goes into the ring as it is while nobody watches; while someone is subscribed
 * (an open `/events` stream) it is completed with the GPU processes, their models and the host's figures, and
 * announced. Without nvidia-smi, samples are taken in a loop only while someone is subscribed, and otherwise on
 * demand, when `latest()` finds the last one older than an interval.
 */
export function createSystemMonitor(opts: SystemMonitorOptions): RunningSystemMonitor {
  const intervalMs = opts.intervalMs ?? 2000
  const historySize = opts.historySize ?? 1800
  const oneShotGpus = opts.readGpus ?? (() => readGpus())
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
  // The newest sample with the processes and the host read (the ring's ticks may lack them).
  let lastFull: SystemSample | undefined
  let stream: GpuStream | undefined
  let lastTick: { at: number; gpus: NvidiaGpu[] } | undefined
  let streamError: string | null = null
  const cortex = opts.cortex ? cortexInfoReader(opts.cortex) : async () => null

  // With the stream running, its last tick is the GPUs' figures; a one-shot query only until the first tick.
  const gpus = async (): Promise<NvidiaGpu[]> => {
    if (stream && streamError !== null) throw new NvidiaSmiError(streamError, '')
    if (stream && lastTick && Date.now() - lastTick.at < 2 * intervalMs) return lastTick.gpus
    return oneShotGpus()
  }

  const push = (sample: SystemSample) => {
    history.push(sample)
    if (history.length > historySize) history.shift()
  }

  const read = async (tick?: { at: number; gpus: NvidiaGpu[] }): Promise<SystemSample> => {
    const at = tick?.at ?? Date.now()
    const [gpuRead, appRead, hostRead] = await Promise.allSettled([tick ? tick.gpus : gpus(), apps(), host()])
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
    if (gpuRead.status === 'fulfilled') noteGpus(gpuRead.value)
    lastFull = sample
    // With a stream, the ring holds its ticks only, one per interval; a sample taken on request between them is not one.
    if (tick || !stream) push(sample)
    for (const fn of listeners) {
      try {
        fn(sample)
      } catch (err) {
        opts.logger.error({ err }, 'system sample listener failed')
      }
    }
    return sample
  }

  const noteGpus = (figures: NvidiaGpu[]) => {
    gpuInfo ??= figures.map(({ index, uuid, name, memoryTotalBytes }) => ({ index, uuid, name, memoryTotalBytes }))
  }

  // One sample at a time: a request that arrives during one shares it. `read` never rejects.
  const take = () => (inflight ??= read().finally(() => (inflight = undefined)))

  const onTick = (at: number, figures: NvidiaGpu[]) => {
    lastTick = { at, gpus: figures }
    streamError = null
    noteGpus(figures)
    if (listeners.size > 0 && inflight === undefined && !closed) {
      inflight = read(lastTick).finally(() => (inflight = undefined))
      return
    }
    // Nobody watches (or a slow host read still runs): the figures alone, processes and host unread.
    push({ at, gpus: figures.map((g) => ({ ...g, processes: null })), host: null, error: null })
  }

  const starting = (async () => {
    const bin = opts.nvidiaSmi === undefined ? await findExecutable('nvidia-smi') : opts.nvidiaSmi
    if (bin === null || closed) return
    stream = startGpuStream({
      bin,
      intervalMs,
      onTick,
      onError: (message) => {
        streamError = message
        // Watchers hear of it now, not at the next tick after the restart: a sample with no GPUs and the reason
        // (once a tick's reading still under way, begun before the death, is done).
        if (listeners.size > 0 && !closed) {
          void Promise.resolve(inflight).then(() => {
            if (!closed) void take()
          })
        }
      },
      logger: opts.logger,
      backoffMs: opts.streamBackoffMs,
    })
    // The stream is the clock from now on: the loop below stops at its next turn.
  })().catch((err: unknown) => opts.logger.error({ err }, 'could not look for nvidia-smi'))

  // The next poll is scheduled only once the last one finished, so a slow nvidia-smi never piles up (STYLE.md §9).
  const loop = async () => {
    timer = undefined
    // Until the look for nvidia-smi ends (a few ms), it is not known whether the stream will be the clock.
    await starting
    if (stream || closed) return
    await take()
    if (listeners.size > 0 && timer === undefined && !closed && !stream) {
      timer = setTimeout(() => void loop(), intervalMs)
      timer.unref()
    }
  }

  const latest = (): Promise<SystemSample> => {
    const last = lastFull
    // While the loop waits for its next turn, the last sample is at most an interval old.
    if (last && (timer !== undefined || Date.now() - last.at < intervalMs)) return Promise.resolve(last)
    return take()
  }

  return {
    latest,
    cortex,
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
      if (listeners.size === 1 && !stream) void loop()
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
      await starting
      await stream?.stop()
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
