import { describe, expect, it } from 'vitest'
import { limiterCases } from './limiter-cases.test-support.js'
import { createMemoryLimiter, reservation, resetText } from './limits.js'

describe('createMemoryLimiter', () => {
  limiterCases(async (now, usedToday) => createMemoryLimiter({ usedToday, now }))
})

describe('reservation', () => {
  it('is max_tokens plus the body at 4 bytes a token', () => {
    expect(reservation(100, 401)).toBe(201)
    expect(reservation(undefined, 8)).toBe(2)
    expect(reservation('100', 0)).toBe(0)
    expect(reservation(-5, 4)).toBe(1)
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
