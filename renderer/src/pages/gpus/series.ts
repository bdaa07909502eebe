/** What the GPU screen draws, derived from the store's samples: pure functions, each memoized on its inputs. */
import type { GpuSample } from '../../../../gateway/contract/index.js'
import type { MonitorSample } from '../../store/slices.js'

const GIB = 1024 ** 3

/** One GPU's readings over the window, aligned on one x array (epoch ms) shared by its charts. */
export interface GpuSeries {
  x: number[]
  memoryGiB: Array<number | null>
  utilization: Array<number | null>
  temperature: Array<number | null>
  power: Array<number | null>
}

export interface HostSeries {
  x: number[]
  cpu: Array<number | null>
  memoryGiB: Array<number | null>
}

export interface Windowed {
  /** The x range every chart shows: the window up to the newest sample, so lines scroll and never stretch. */
  range: [number, number]
  /** Per GPU index. */
  gpus: Map<number, GpuSeries>
  host: HostSeries
}

/** Index of the first sample at or after `at` (samples are oldest first). */
function firstFrom(samples: MonitorSample[], at: number): number {
  let lo = 0
  let hi = samples.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (samples[mid]!.at < at) lo = mid + 1
    else hi = mid
  }
  return lo
}

const gib = (bytes: number | null) => (bytes === null ? null : bytes / GIB)

/** Every series of the window in one pass over the samples (an hour for 8 GPUs is ~14k readings: cheap once per sample). */
export function windowed(samples: MonitorSample[], windowMs: number): Windowed {
  const newest = samples.at(-1)?.at ?? 0
  const from = newest - windowMs
  const inWindow = samples.slice(firstFrom(samples, from))
  const x = inWindow.map((s) => s.at)
  const gpus = new Map<number, GpuSeries>()
  inWindow.forEach((sample, i) => {
    for (const g of sample.gpus) {
      let series = gpus.get(g.index)
      if (!series) {
        const empty = () => new Array<number | null>(inWindow.length).fill(null)
        series = { x, memoryGiB: empty(), utilization: empty(), temperature: empty(), power: empty() }
        gpus.set(g.index, series)
      }
      series.memoryGiB[i] = gib(g.memoryUsedBytes)
      series.utilization[i] = g.utilizationPercent
      series.temperature[i] = g.temperatureC
      series.power[i] = g.powerDrawW
    }
  })
  const host: HostSeries = {
    x,
    cpu: inWindow.map((s) => s.host?.cpuLoadPercent ?? null),
    memoryGiB: inWindow.map((s) => gib(s.host?.memory.usedBytes ?? null)),
  }
  return { range: [from, newest], gpus, host }
}

/** Remembers the last answer: the page re-renders for many reasons, the series change only with a new sample. */
export function memoLast<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  let last: { args: A; result: R } | null = null
  return (...args: A) => {
    if (last && last.args.length === args.length && last.args.every((a, i) => Object.is(a, args[i]))) return last.result
    const result = fn(...args)
    last = { args, result }
    return result
  }
}

export interface MemoryPart {
  /** The model's name, "other" for the rest of what is used. */
  label: string
  bytes: number
  model: boolean
}

/**
 * A GPU's used memory split by the model whose engine holds it; what no model's process accounts for (other
 * programs, the driver) is "other". Without a process list (nobody watched when it was taken) it is all "other".
 */
export function memoryParts(gpu: GpuSample): MemoryPart[] {
  const used = gpu.memoryUsedBytes
  if (used === null) return []
  const byModel = new Map<string, number>()
  for (const p of gpu.processes ?? []) {
    if (p.model === null || p.usedBytes === null) continue
    byModel.set(p.model.name, (byModel.get(p.model.name) ?? 0) + p.usedBytes)
  }
  const parts: MemoryPart[] = [...byModel].sort((a, b) => b[1] - a[1]).map(([label, bytes]) => ({ label, bytes, model: true }))
  const other = used - parts.reduce((sum, p) => sum + p.bytes, 0)
  if (other > 0) parts.push({ label: 'other', bytes: other, model: false })
  return parts
}
