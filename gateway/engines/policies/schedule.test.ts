import { describe, expect, it } from 'vitest'
import { describeWindows, isOpen, nextChange, type ScheduleWindow } from './schedule.js'

const at = (iso: string) => Date.parse(iso)
const w = (from: string, to: string, timeZone = 'UTC', days: ScheduleWindow['days'] = []): ScheduleWindow => {
  const m = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3))
  return { days, from: m(from), to: m(to), timeZone }
}
const night = w('02:00', '06:00')
const day = w('06:00', '02:00')

describe('isOpen', () => {
  it.each([
    ['inside a same-day window', [night], '2026-03-02T03:00:00Z', true],
    ['at its start (inclusive)', [night], '2026-03-02T02:00:00Z', true],
    ['at its end (exclusive)', [night], '2026-03-02T06:00:00Z', false],
    ['a window across midnight, evening part', [day], '2026-03-02T23:30:00Z', true],
    ['a window across midnight, morning part', [day], '2026-03-02T01:59:00Z', true],
    ['a window across midnight, the gap', [day], '2026-03-02T04:00:00Z', false],
    ['from = to is the whole day', [w('00:00', '00:00')], '2026-03-02T13:00:00Z', true],
    ['no windows: always', [], '2026-03-02T13:00:00Z', true],
    ['days: Monday only, on a Monday', [w('09:00', '17:00', 'UTC', ['mon'])], '2026-03-02T10:00:00Z', true],
    ['days: Monday only, on a Tuesday', [w('09:00', '17:00', 'UTC', ['mon'])], '2026-03-03T10:00:00Z', false],
    // The morning part of a Friday-night window is Saturday morning.
    ['across midnight belongs to the start day', [w('22:00', '02:00', 'UTC', ['fri'])], '2026-03-07T01:00:00Z', true],
    ['…and not to the day after', [w('22:00', '02:00', 'UTC', ['fri'])], '2026-03-07T23:00:00Z', false],
    ['in its own time zone', [w('02:00', '06:00', 'Asia/Tokyo')], '2026-03-01T18:30:00Z', true],
  ] as const)('%s', (_what, windows, iso, expected) => {
    expect(isOpen(windows as readonly ScheduleWindow[], at(iso))).toBe(expected)
  })
})

describe('nextChange', () => {
  it('finds the next opening and closing to the minute', () => {
    expect(new Date(nextChange([night], at('2026-03-02T12:34:56Z'))!).toISOString()).toBe('2026-03-03T02:00:00.000Z')
    expect(new Date(nextChange([night], at('2026-03-03T02:00:00Z'))!).toISOString()).toBe('2026-03-03T06:00:00.000Z')
    expect(new Date(nextChange([day], at('2026-03-02T12:00:00Z'))!).toISOString()).toBe('2026-03-03T02:00:00.000Z')
  })

  it('two windows that meet never close; no windows never change', () => {
    expect(nextChange([night, day], at('2026-03-02T12:00:00Z'))).toBeNull()
    expect(nextChange([], at('2026-03-02T12:00:00Z'))).toBeNull()
  })

  it('weekly windows: a Monday window seen on Tuesday opens next Monday', () => {
    const monday = w('09:00', '17:00', 'UTC', ['mon'])
    expect(new Date(nextChange([monday], at('2026-03-03T10:00:00Z'))!).toISOString()).toBe('2026-03-09T09:00:00.000Z')
  })

  it('on DST days the wall clock decides: Berlin’s 02:00–06:00 is 4 hours, then 5, then 3 of real time', () => {
    const berlin = w('02:00', '06:00', 'Europe/Berlin')
    // 2026-03-29: clocks go 02:00 → 03:00 (CET → CEST). 02:00 does not exist; the window opens at 03:00 CEST (01:00Z).
    expect(new Date(nextChange([berlin], at('2026-03-28T12:00:00Z'))!).toISOString()).toBe('2026-03-29T01:00:00.000Z')
    expect(new Date(nextChange([berlin], at('2026-03-29T01:00:00Z'))!).toISOString()).toBe('2026-03-29T04:00:00.000Z')
    // 2026-10-25: clocks go 03:00 → 02:00; the window runs 02:00 CEST (00:00Z) to 06:00 CET (05:00Z): 5 hours.
    expect(new Date(nextChange([berlin], at('2026-10-24T12:00:00Z'))!).toISOString()).toBe('2026-10-25T00:00:00.000Z')
    expect(new Date(nextChange([berlin], at('2026-10-25T00:00:00Z'))!).toISOString()).toBe('2026-10-25T05:00:00.000Z')
  })
})

describe('describeWindows', () => {
  it('says the windows in words', () => {
    expect(describeWindows([night, w('09:00', '17:30', 'Europe/Berlin', ['mon', 'fri'])])).toBe(
      '02:00–06:00 UTC; 09:00–17:30 Europe/Berlin (mon, fri)',
    )
  })
})
