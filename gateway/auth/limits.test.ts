import { describe, expect, it } from 'vitest'
import { CortexError } from '../contract/errors.js'
import type { KeyLimits } from '../contract/keys.js'
import { createMemoryLimiter, reservation, resetText, WINDOW_MS, type Ticket } from './limits.js'
import type { ApiKeyRecord } from './types.js'

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0)

function key(limits: Partial<KeyLimits>, id = 'key_1'): ApiKeyRecord {
  return {
    id,
    name: `app-${id}`,
    hash: id,
    prefix: 'sk-cortex-xxxx…',
    orgId: null,
    models: null,
    scopes: ['inference'],
    limits: { rpm: null, tpm: null, concurrency: null, dailyTokens: null, ...limits },
    ips: null,
    createdAt: 0,
    expiresAt: null,
    revokedAt: null,
  }
}

function setup(usedToday = new Map<string, number>()) {
  const clock = { t: T0 }
  return { clock, limiter: createMemoryLimiter({ usedToday, now: () => clock.t }) }
}

/** The refusal, or a failed test when the request was admitted. */
async function refused(p: Promise<Ticket>): Promise<CortexError> {
  const outcome = await p.then(
    () => null,
    (err: unknown) => err,
  )
  expect(outcome).toBeInstanceOf(CortexError)
  return outcome as CortexError
}

describe('createMemoryLimiter', () => {
  it('admits at most rpm requests in any 60 s window and says when the oldest leaves it', async () => {
    const { clock, limiter } = setup()
    const k = key({ rpm: 3 })
    for (const dt of [0, 10_000, 20_000]) {
      clock.t = T0 + dt
      await limiter.admit(k, 1)
    }
    clock.t = T0 + 30_000
    const err = await refused(limiter.admit(k, 1))
    expect(err).toMatchObject({ code: 'rate_limit_exceeded', status: 429 })
    expect(err.details).toMatchObject({ limit: 'rpm', retryAfterSeconds: 30 })
    expect(err.message).toContain('3 requests in the last minute')
    expect(err.details!.headers).toMatchObject({
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '30s',
    })
    // At exactly 60 s the first admission has left the window; the second has not.
    clock.t = T0 + WINDOW_MS
    const ticket = await limiter.admit(k, 1)
    expect(ticket.headers['x-ratelimit-remaining-requests']).toBe('0')
    expect((await refused(limiter.admit(k, 1))).details).toMatchObject({ retryAfterSeconds: 10 })
  })

  it('never admits more than the limit from a burst of concurrent callers', async () => {
    const { limiter } = setup()
    const k = key({ rpm: 5 })
    const outcomes = await Promise.allSettled(Array.from({ length: 50 }, () => limiter.admit(k, 1)))
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5)
  })

  it('holds concurrency slots until each request settles, and a settle twice frees one slot', async () => {
    const { limiter } = setup()
    const k = key({ concurrency: 2 })
    const a = await limiter.admit(k, 1)
    await limiter.admit(k, 1)
    expect((await refused(limiter.admit(k, 1))).details).toMatchObject({ limit: 'concurrency', retryAfterSeconds: 1 })
    a.settle(10)
    a.settle(10)
    await limiter.admit(k, 1)
    await refused(limiter.admit(k, 1))
  })

  it('reserves tokens at admission and settles them with the real usage', async () => {
    const { clock, limiter } = setup()
    const k = key({ tpm: 1000 })
    const first = await limiter.admit(k, 800)
    expect(first.headers).toMatchObject({ 'x-ratelimit-limit-tokens': '1000', 'x-ratelimit-remaining-tokens': '200' })
    const err = await refused(limiter.admit(k, 300))
    expect(err.details).toMatchObject({ limit: 'tpm', retryAfterSeconds: 60 })
    first.settle(100)
    clock.t += 15_000
    const second = await limiter.admit(k, 300)
    expect(second.headers['x-ratelimit-remaining-tokens']).toBe('600')
    second.settle(null)
    // 100 + 300 charged; 700 more would pass 1000 until the first charge (at T0) leaves the window, 45 s from now.
    expect((await refused(limiter.admit(k, 700))).details).toMatchObject({ retryAfterSeconds: 45 })
  })

  it('refuses a request that reserves more than the whole tpm, saying what to lower', async () => {
    const { limiter } = setup()
    const err = await refused(limiter.admit(key({ tpm: 100 }), 101))
    expect(err.message).toMatch(/reserves 101 tokens.*lower max_tokens/)
  })

  it('counts daily tokens from what the key used earlier today, until UTC midnight', async () => {
    const { clock, limiter } = setup(new Map([['key_1', 900]]))
    const k = key({ dailyTokens: 1000 })
    const ticket = await limiter.admit(k, 50)
    ticket.settle(80)
    const err = await refused(limiter.admit(k, 50))
    expect(err.details).toMatchObject({ limit: 'dailyTokens', retryAfterSeconds: 12 * 3600 })
    expect(err.message).toContain('980 of its 1000 daily tokens')
    clock.t = Date.UTC(2026, 10, 23, 0, 0, 1)
    await limiter.admit(k, 999)
  })

  it('keeps keys apart, and sends no headers for limits a key does not have', async () => {
    const { limiter } = setup()
    await limiter.admit(key({ rpm: 1 }, 'a'), 1)
    await refused(limiter.admit(key({ rpm: 1 }, 'a'), 1))
    const other = await limiter.admit(key({ rpm: 1 }, 'b'), 1)
    expect(other.headers).not.toHaveProperty('x-ratelimit-limit-tokens')
    expect((await limiter.admit(key({ concurrency: 9 }, 'c'), 1)).headers).toEqual({})
  })
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
