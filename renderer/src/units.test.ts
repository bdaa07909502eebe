import { describe, expect, it } from 'vitest'
import {
  formatAgo,
  formatBytes,
  formatCount,
  formatDuration,
  formatParameters,
  formatPercent,
  formatRate,
  formatTokens,
} from './units.js'

describe('units', () => {
  it('says sizes in binary units with three significant figures', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(1536)).toBe('1.5 KiB')
    expect(formatBytes(80 * 1024 ** 3)).toBe('80 GiB')
    expect(formatBytes(4.6843 * 1024 ** 3)).toBe('4.68 GiB')
    expect(formatBytes(null)).toBe('—')
  })

  it('says durations the way people read them', () => {
    expect(formatDuration(850)).toBe('850 ms')
    expect(formatDuration(4200)).toBe('4.2 s')
    expect(formatDuration(185_000)).toBe('3 min 5 s')
    expect(formatDuration(2 * 3600_000 + 600_000)).toBe('2 h 10 min')
    expect(formatDuration(3 * 86_400_000)).toBe('3 d')
    expect(formatDuration(undefined)).toBe('—')
  })

  it('says ages relative to now, and never for a missing time', () => {
    expect(formatAgo(1000, 301_000)).toBe('5 min ago')
    expect(formatAgo(10_000, 9000)).toBe('just now')
    expect(formatAgo(3_600_000 + 1000, 1000)).toBe('in 1 h')
    expect(formatAgo(null, 0)).toBe('never')
  })

  it('gives rates, percentages, counts and parameters their units', () => {
    expect(formatRate(42.345)).toBe('42.3 tok/s')
    expect(formatPercent(0.1234)).toBe('12.3 %')
    expect(formatPercent(87, true)).toBe('87 %')
    expect(formatCount(1234567)).toBe('1,234,567')
    expect(formatParameters(7_615_616_512)).toBe('7.62 B')
    expect(formatTokens(32768)).toBe('32,768 tokens')
  })
})
