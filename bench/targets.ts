/**
 * The targets of issue 9 (and the usage-write share of issue 10), each a ratio or a difference to the floor, or a
 * plain bound where the issue gives one. Pure: they are printed met / not met and written to the results, never
 * turned into an exit status.
 */

/** How a value relates to the floor: Cortex/floor, Cortex − floor, or Cortex's own figure. */
export type Basis = 'ratio' | 'overFloor' | 'absolute'

export interface TargetCheck {
  id: TargetId
  basis: Basis
  value: number
  /** `value` passes when ≤ limit (`atMost`) or ≥ limit; NaN never passes. */
  limit: number
  atMost: boolean
  unit: string
  pass: boolean
}

export type TargetId =
  | 'latency.small.p50'
  | 'latency.small.p99'
  | 'latency.large.p50'
  | 'throughput'
  | 'cpu.request'
  | 'cpu.frame'
  | 'streams.frames'
  | 'ttft'
  | 'many.complete'
  | 'many.rss'
  | 'idle.rss'

export function atMost(id: TargetId, basis: Basis, value: number, limit: number, unit = ''): TargetCheck {
  return { id, basis, value, limit, atMost: true, unit, pass: value <= limit }
}

export function atLeast(id: TargetId, basis: Basis, value: number, limit: number, unit = ''): TargetCheck {
  return { id, basis, value, limit, atMost: false, unit, pass: value >= limit }
}

const withUnit = (n: number, unit: string, digits: number) =>
  Number.isFinite(n) ? `${n.toFixed(digits)}${unit === '' || unit === '×' ? unit : ` ${unit}`}` : '—'

/** The target as printed: `≤ 1.3× floor`, `≤ floor + 0.15 ms`, `≥ 1000`, `≤ 80 MB`, `≤ 1.20×`. */
export function targetText(c: TargetCheck): string {
  const op = c.atMost ? '≤' : '≥'
  if (c.basis === 'ratio') return `${op} ${c.limit}× floor`
  if (c.basis === 'overFloor') return `${op} floor + ${c.limit} ${c.unit}`
  return `${op} ${withUnit(c.limit, c.unit, Number.isInteger(c.limit) ? 0 : 2)}`
}

/** The checked value as printed: `1.42×`, `+0.210 ms` (signed: Cortex − floor), `1.300 ms`. */
export function valueText(c: TargetCheck): string {
  if (c.basis === 'ratio') return withUnit(c.value, '×', 2)
  if (c.basis === 'overFloor') return `${c.value >= 0 ? '+' : ''}${withUnit(c.value, c.unit, 3)}`
  return withUnit(c.value, c.unit, Number.isInteger(c.value) ? 0 : 2)
}

interface Percentiles {
  median: number
  p99: number
}
interface PerGateway<T> {
  floor: T
  through: T
}

/** What the targets read from the results (the results hold more). `through` is Cortex. */
export interface TargetInputs {
  /** Added over direct at concurrency 1, mock: the 0.3 KB and the 1 MB body. */
  latency: { small: PerGateway<Percentiles>; large: PerGateway<{ median: number }> }
  requestsPerSecond: PerGateway<number>
  addedTtftMs: PerGateway<{ median: number }>
  /** Gateway CPU µs per request and per content frame. */
  cpuUs: { request: PerGateway<number>; frame: PerGateway<number> }
  /** Every stream sent through Cortex in the paced and zero-gap measurements. */
  cortexStreams: { sent: number; complete: number }
  manyStreams: { streams: number; complete: number; rssMb: { before: number; after: number } }
  idleRssMb: number
}

export function checkTargets(r: TargetInputs): TargetCheck[] {
  const { small, large } = r.latency
  const many = r.manyStreams
  return [
    atMost('latency.small.p50', 'overFloor', small.through.median - small.floor.median, 0.15, 'ms'),
    atMost('latency.small.p99', 'overFloor', small.through.p99 - small.floor.p99, 1, 'ms'),
    atMost('latency.large.p50', 'absolute', large.through.median, 1.5, 'ms'),
    atLeast('throughput', 'ratio', r.requestsPerSecond.through / r.requestsPerSecond.floor, 0.85),
    atMost('cpu.request', 'ratio', r.cpuUs.request.through / r.cpuUs.request.floor, 1.3),
    atMost('cpu.frame', 'ratio', r.cpuUs.frame.through / r.cpuUs.frame.floor, 1.2),
    atLeast('streams.frames', 'absolute', r.cortexStreams.complete, r.cortexStreams.sent),
    atMost('ttft', 'overFloor', r.addedTtftMs.through.median - r.addedTtftMs.floor.median, 0.3, 'ms'),
    atLeast('many.complete', 'absolute', many.complete, many.streams),
    atMost('many.rss', 'absolute', many.rssMb.after / many.rssMb.before, 1.2, '×'),
    atMost('idle.rss', 'absolute', r.idleRssMb, 80, 'MB'),
  ]
}
