/** The usage screen's choice lives in the address (`?range=7d&groupBy=day`): a reload or a shared link shows the same. */
import type { UsageGroupBy } from '../../../../gateway/contract/index.js'
import type { UsageParams } from '../../api.js'

export const RANGES = [
  { id: '24h', label: 'Last 24 h', ms: 86_400_000 },
  { id: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { id: '30d', label: 'Last 30 days', ms: 30 * 86_400_000 },
  { id: 'custom', label: 'Custom', ms: 0 },
] as const
export type RangeId = (typeof RANGES)[number]['id']

export const GROUPS: ReadonlyArray<{ id: UsageGroupBy; label: string }> = [
  { id: 'model', label: 'Model' },
  { id: 'day', label: 'Day' },
  { id: 'key', label: 'Key' },
  { id: 'org', label: 'Organization' },
]

export interface Selection {
  range: RangeId
  groupBy: UsageGroupBy
  /** Custom range: local dates `YYYY-MM-DD`, both days included. */
  fromDay: string
  toDay: string
}

const DAY = /^\d{4}-\d{2}-\d{2}$/

/** A local date as `YYYY-MM-DD`, what `<input type="date">` reads and writes. */
export function dayOf(ms: number): string {
  const d = new Date(ms)
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`
}

/** Local midnight of a `YYYY-MM-DD` day, or of the `plus`th day after it (a day is not always 24 h). */
const midnight = (day: string, plus = 0) => {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number]
  return new Date(y, m - 1, d + plus).getTime()
}

export function selectionOf(search: URLSearchParams, now: number): Selection {
  const range = RANGES.find((r) => r.id === search.get('range'))?.id ?? '24h'
  const groupBy = GROUPS.find((g) => g.id === search.get('groupBy'))?.id ?? 'model'
  const from = search.get('from') ?? ''
  const to = search.get('to') ?? ''
  return {
    range,
    groupBy,
    fromDay: DAY.test(from) ? from : dayOf(now - 7 * 86_400_000),
    toDay: DAY.test(to) ? to : dayOf(now),
  }
}

/** What to ask the gateway: a preset ends now; a custom range runs from the first day's midnight to the end of the last. */
export function paramsOf(s: Selection, now: number): UsageParams {
  if (s.range === 'custom') {
    // A "to" before "from" reads as the one day "from".
    const from = midnight(s.fromDay)
    const to = Math.max(midnight(s.toDay, 1), midnight(s.fromDay, 1))
    return { groupBy: s.groupBy, from, to }
  }
  const ms = RANGES.find((r) => r.id === s.range)!.ms
  return { groupBy: s.groupBy, from: now - ms, to: now }
}

/** The address of a selection, keeping only what differs from the defaults. */
export function searchOf(s: Selection): URLSearchParams {
  const search = new URLSearchParams()
  if (s.range !== '24h') search.set('range', s.range)
  if (s.groupBy !== 'model') search.set('groupBy', s.groupBy)
  if (s.range === 'custom') {
    search.set('from', s.fromDay)
    search.set('to', s.toDay)
  }
  return search
}
