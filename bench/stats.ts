/** Small, dependency-free statistics for the bench: quantiles, IQR, paired differences, shuffling. */

export interface Summary {
  n: number
  mean: number
  median: number
  p99: number
  q1: number
  q3: number
  iqr: number
}

/** The q-quantile (0 ≤ q ≤ 1) of the values, linear interpolation between closest ranks; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (q < 0 || q > 1) throw new RangeError(`quantile expects 0 ≤ q ≤ 1 (got ${q})`)
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5)
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  return values.reduce((sum, v) => sum + v, 0) / values.length
}

export function summarize(values: readonly number[]): Summary {
  const q1 = quantile(values, 0.25)
  const q3 = quantile(values, 0.75)
  return { n: values.length, mean: mean(values), median: median(values), p99: quantile(values, 0.99), q1, q3, iqr: q3 - q1 }
}

/** Per-round differences `after[i] − before[i]`; both series must come from the same rounds. */
export function pairedDifferences(before: readonly number[], after: readonly number[]): number[] {
  if (before.length !== after.length) throw new RangeError(`paired series differ in length (${before.length} vs ${after.length})`)
  return before.map((b, i) => after[i]! - b)
}

/** Differences between consecutive values (e.g. arrival times → gaps). */
export function gaps(times: readonly number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!)
}

/** A copy in uniformly random order (Fisher–Yates); `random` is injectable for tests. */
export function shuffled<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}
