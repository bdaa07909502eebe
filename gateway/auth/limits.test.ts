import { describe, expect, it } from 'vitest'
import { limiterCases } from './limiter-cases.test-support.js'
import { UNKNOWN_CONTEXT, createMemoryLimiter, reservation, resetText } from './limits.js'

describe('createMemoryLimiter', () => {
  limiterCases(async (now, usedToday) => createMemoryLimiter({ usedToday, now }))
})

describe('reservation', () => {
  it('is the output cap times n plus the body at 4 bytes a token', () => {
    expect(reservation({ cap: 100, n: 1 }, 401, 8192)).toBe(201)
    expect(reservation({ cap: 100, n: 3 }, 400, 8192)).toBe(400)
    expect(reservation({ cap: 0, n: 1 }, 4, 8192)).toBe(1)
  })

  it('without a cap, takes what the engine may generate: the context left after the prompt', () => {
    expect(reservation({ cap: null, n: 1 }, 4000, 8192)).toBe(8192)
    expect(reservation({ cap: null, n: 2 }, 4000, 8192)).toBe(8192 - 1000 + 8192)
    expect(reservation({ cap: null, n: 1 }, 8, null)).toBe(UNKNOWN_CONTEXT + 2)
  })

  it('never counts more output than the context holds, nor past a billion tokens', () => {
    expect(reservation({ cap: 1e30, n: 1 }, 4000, 8192)).toBe(8192)
    expect(reservation({ cap: 1e30, n: 1e6 }, 0, null)).toBe(1_000_000_000)
  })
})

describe('resetText', () => {
  it('writes durations as OpenAI does', () => {
    expect([0, 20, 999, 1000, 1001, 59_000, 60_000, 90_500].map(resetText)).toEqual([
      '0s',
      '20ms',
      '999ms',
      '1s',
      '2s',
      '59s',
      '1m0s',
      '1m31s',
    ])
  })
})
