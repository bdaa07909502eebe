import { describe, expect, it } from 'vitest'
import { gaps, mean, median, pairedDifferences, quantile, shuffled, summarize } from './stats.js'

describe('quantile', () => {
  it('interpolates between closest ranks and ignores input order', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5)
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2)
    expect(quantile([10, 20], 0.99)).toBeCloseTo(19.9)
    expect(quantile([7], 0.99)).toBe(7)
  })

  it('is NaN for no values and rejects q outside [0, 1]', () => {
    expect(quantile([], 0.5)).toBeNaN()
    expect(() => quantile([1], 1.5)).toThrow(RangeError)
  })

  it('does not reorder its input', () => {
    const values = [3, 1, 2]
    median(values)
    expect(values).toEqual([3, 1, 2])
  })
})

describe('summarize', () => {
  it('reports median, p99 and IQR', () => {
    const values = Array.from({ length: 101 }, (_, i) => i) // 0..100
    const s = summarize(values)
    expect(s).toMatchObject({ n: 101, mean: 50, median: 50, p99: 99, q1: 25, q3: 75, iqr: 50 })
  })
})

describe('pairedDifferences', () => {
  it('subtracts round by round', () => {
    expect(pairedDifferences([1, 2, 3], [1.5, 2, 5])).toEqual([0.5, 0, 2])
  })

  it('refuses series of different lengths', () => {
    expect(() => pairedDifferences([1], [1, 2])).toThrow(RangeError)
  })

  it('median of differences shrugs off a hiccup that a difference of means would report', () => {
    const direct = [1, 1, 1, 1, 1]
    const through = [1.3, 1.3, 40, 1.3, 1.3] // one round hit a GC pause
    expect(median(pairedDifferences(direct, through))).toBeCloseTo(0.3)
    expect(mean(through) - mean(direct)).toBeCloseTo(8.04)
  })
})

describe('gaps', () => {
  it('gives consecutive differences', () => {
    expect(gaps([10, 30, 35])).toEqual([20, 5])
    expect(gaps([10])).toEqual([])
  })
})

describe('shuffled', () => {
  it('returns a permutation without touching the input', () => {
    const input = [1, 2, 3, 4, 5]
    const out = shuffled(input)
    expect([...out].sort()).toEqual(input)
    expect(input).toEqual([1, 2, 3, 4, 5])
  })

  it('uses the injected random source (Fisher–Yates)', () => {
    // random() → 0 always swaps position i with 0: [a,b,c] → i=2: [c,b,a] → i=1: [b,c,a]
    expect(shuffled(['a', 'b', 'c'], () => 0)).toEqual(['b', 'c', 'a'])
  })
})
