/** How the usage report's rows read: their names, their order, and the figures the chart can draw. */
import type { UsageGroup, UsageGroupBy, UsageReport } from '../../../../gateway/contract/index.js'
import { formatCount, formatDuration } from '../../units.js'

/** A row's name; rows without a key or an organization gather under a plain "No key" / "No organization". */
export function rowLabel(g: UsageGroup, groupBy: UsageGroupBy): string {
  if (g.key === null) return groupBy === 'key' ? 'No key' : groupBy === 'org' ? 'No organization' : '—'
  return g.name ?? g.key
}

/** Days in time order; models, keys and organizations busiest first. */
export function orderedRows(report: UsageReport): UsageGroup[] {
  const rows = [...report.groups]
  if (report.groupBy === 'day') return rows.sort((a, b) => (a.key ?? '').localeCompare(b.key ?? ''))
  return rows.sort((a, b) => b.requests - a.requests || rowLabel(a, report.groupBy).localeCompare(rowLabel(b, report.groupBy)))
}

const empty = (day: string): UsageGroup => ({
  key: day,
  name: day,
  requests: 0,
  errors: 0,
  errorRate: 0,
  promptTokens: 0,
  completionTokens: 0,
  totalTokens: 0,
  bytesIn: 0,
  bytesOut: 0,
  latencyMs: null,
  ttftMs: null,
})

/**
 * The chart's bars: the table's rows, and by day every UTC day of the range (the report's days, `YYYY-MM-DD`, are
 * UTC), the quiet ones at 0, so that the bars keep time.
 */
export function chartRows(report: UsageReport, rows: UsageGroup[]): UsageGroup[] {
  if (report.groupBy !== 'day') return rows
  const byDay = new Map(rows.map((g) => [g.key, g]))
  const last = new Date(Date.parse(report.to) - 1).toISOString().slice(0, 10)
  const all: UsageGroup[] = []
  for (let at = Date.parse(report.from); ; at += 86_400_000) {
    const day = new Date(at).toISOString().slice(0, 10)
    if (day > last) break
    all.push(byDay.get(day) ?? empty(day))
  }
  return all
}

const whole = (v: number) => (Number.isInteger(v) ? formatCount(v) : '')

export const METRICS = [
  { id: 'requests', label: 'Requests', value: (g: UsageGroup) => g.requests, format: whole },
  { id: 'promptTokens', label: 'Tokens in', value: (g: UsageGroup) => g.promptTokens, format: whole },
  { id: 'completionTokens', label: 'Tokens out', value: (g: UsageGroup) => g.completionTokens, format: whole },
  {
    id: 'errorRate',
    label: 'Error rate',
    value: (g: UsageGroup) => g.errorRate * 100,
    format: (v: number) => `${Number(v.toFixed(1))} %`,
  },
  { id: 'latency', label: 'Latency p95', value: (g: UsageGroup) => g.latencyMs?.p95 ?? null, format: formatDuration },
  { id: 'ttft', label: 'Time to first token p95', value: (g: UsageGroup) => g.ttftMs?.p95 ?? null, format: formatDuration },
] as const
export type MetricId = (typeof METRICS)[number]['id']
