import { describe, expect, it } from 'vitest'
import type { UsageGroup, UsageReport } from '../../../../gateway/contract/index.js'
import { dayOf, paramsOf, searchOf, selectionOf } from './params.js'
import { chartRows, orderedRows, rowLabel } from './rows.js'

const NOW = new Date(2025, 0, 31, 15, 30).getTime()
const local = (y: number, m: number, d: number) => new Date(y, m - 1, d).getTime()

describe('usage selection', () => {
  it('defaults to the last 24 h by model, ending now', () => {
    const s = selectionOf(new URLSearchParams(''), NOW)
    expect(s).toEqual({ range: '24h', groupBy: 'model', fromDay: '2025-01-24', toDay: '2025-01-31' })
    expect(paramsOf(s, NOW)).toEqual({ groupBy: 'model', from: NOW - 86_400_000, to: NOW })
    expect(searchOf(s).toString()).toBe('')
  })

  it('reads presets and groupings from the address, and ignores what it does not know', () => {
    expect(paramsOf(selectionOf(new URLSearchParams('range=30d&groupBy=day'), NOW), NOW)).toEqual({
      groupBy: 'day',
      from: NOW - 30 * 86_400_000,
      to: NOW,
    })
    expect(selectionOf(new URLSearchParams('range=1y&groupBy=colour&from=soon'), NOW)).toMatchObject({
      range: '24h',
      groupBy: 'model',
      fromDay: '2025-01-24',
    })
  })

  it('runs a custom range from the first day’s local midnight to the end of the last', () => {
    const s = selectionOf(new URLSearchParams('range=custom&groupBy=key&from=2025-01-01&to=2025-01-31'), NOW)
    expect(paramsOf(s, NOW)).toEqual({ groupBy: 'key', from: local(2025, 1, 1), to: local(2025, 2, 1) })
    expect(searchOf(s).toString()).toBe('range=custom&groupBy=key&from=2025-01-01&to=2025-01-31')
    // A last day before the first reads as the first day alone.
    const backwards = selectionOf(new URLSearchParams('range=custom&from=2025-01-10&to=2025-01-02'), NOW)
    expect(paramsOf(backwards, NOW)).toEqual({ groupBy: 'model', from: local(2025, 1, 10), to: local(2025, 1, 11) })
  })

  it('says local dates as the date input does', () => {
    expect(dayOf(local(2025, 3, 9))).toBe('2025-03-09')
  })
})

const group = (key: string | null, requests: number, name: string | null = key): UsageGroup => ({
  key,
  name,
  requests,
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
const report = (groupBy: UsageReport['groupBy'], groups: UsageGroup[]): UsageReport => ({
  groupBy,
  from: '2025-01-01T00:00:00.000Z',
  to: '2025-02-01T00:00:00.000Z',
  groups,
  total: group(null, 0),
})

describe('usage rows', () => {
  it('puts days in time order and the rest busiest first', () => {
    const days = [group('2025-01-03', 1), group('2025-01-01', 9)]
    expect(orderedRows(report('day', days)).map((g) => g.key)).toEqual(['2025-01-01', '2025-01-03'])
    const models = [group('b', 1), group('c', 5), group('a', 1)]
    expect(orderedRows(report('model', models)).map((g) => g.key)).toEqual(['c', 'a', 'b'])
  })

  it('names rows by their name, their id when the name is gone, and says when there was no key or organization', () => {
    expect(rowLabel(group('k1', 1, 'ci'), 'key')).toBe('ci')
    expect(rowLabel(group('k2', 1, null), 'key')).toBe('k2')
    expect(rowLabel(group(null, 1), 'key')).toBe('No key')
    expect(rowLabel(group(null, 1), 'org')).toBe('No organization')
  })

  it('charts every UTC day of the range, the quiet ones at 0; other groupings as the table has them', () => {
    const days = report('day', [group('2025-01-03', 4)])
    days.from = '2025-01-01T15:30:00.000Z'
    days.to = '2025-01-04T00:00:00.000Z'
    const bars = chartRows(days, orderedRows(days))
    expect(bars.map((g) => [g.key, g.requests])).toEqual([
      ['2025-01-01', 0],
      ['2025-01-02', 0],
      ['2025-01-03', 4],
    ])
    const models = report('model', [group('a', 1)])
    expect(chartRows(models, models.groups)).toBe(models.groups)
  })
})
