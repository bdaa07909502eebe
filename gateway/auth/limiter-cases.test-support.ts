import { randomUUID } from 'node:crypto'
import { afterEach, expect, it } from 'vitest'
import { CortexError } from '../contract/errors.js'
import type { ApiKeyRecord, KeyLimits } from '../contract/keys.js'
import { NO_LIMITS, keyRecord } from './keys.test-support.js'
import { WINDOW_MS, type Limiter, type Ticket } from './limits.js'

/** Noon UTC, so the daily case has twelve hours to midnight. */
export const T0 = Date.UTC(2026, 10, 22, 12, 0, 0)

/** Makes a limiter on the given clock, with `usedToday` by key hash. */
export type MakeLimiter = (now: () => number, usedToday: Map<string, number>) => Promise<Limiter>

/** The refusal, or a failed test when the request was admitted. */
export async function refused(p: Promise<Ticket>): Promise<CortexError> {
  const outcome = await p.then(
    () => null,
    (err: unknown) => err,
  )
  expect(outcome).toBeInstanceOf(CortexError)
  return outcome as CortexError
}

/**
 * What every limiter must do, on a clock the test moves: the memory limiter's unit suite and the Redis limiter's
 * integration suite run these same cases. Key hashes are fresh for each case, so cases never share counters.
 */
export function limiterCases(make: MakeLimiter): void {
  const open: Limiter[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((l) => l.close()))
  })

  async function setup(usedToday: (key: (limits: Partial<KeyLimits>, id?: string) => ApiKeyRecord) => Map<string, number>) {
    const space = randomUUID()
    const key = (limits: Partial<KeyLimits>, id = 'key_1'): ApiKeyRecord =>
      keyRecord({ id, name: `app-${id}`, hash: `${space}-${id}`, limits: { ...NO_LIMITS, ...limits } })
    const clock = { t: T0 }
    const limiter = await make(() => clock.t, usedToday(key))
    open.push(limiter)
    return { clock, limiter, key }
  }
  const fresh = () => setup(() => new Map())

  it('admits at most rpm requests in any 60 s window and says when the oldest leaves it', async () => {
    const { clock, limiter, key } = await fresh()
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
    const { limiter, key } = await fresh()
    const k = key({ rpm: 5 })
    const outcomes = await Promise.allSettled(Array.from({ length: 50 }, () => limiter.admit(k, 1)))
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5)
  })

  it('holds concurrency slots until each request settles, and a settle twice frees one slot', async () => {
    const { limiter, key } = await fresh()
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
    const { clock, limiter, key } = await fresh()
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

  it('charges a request that outlasts the window its real tokens from when it ends', async () => {
    const { clock, limiter, key } = await fresh()
    const k = key({ tpm: 1000 })
    const long = await limiter.admit(k, 100)
    clock.t = T0 + 61_000
    long.settle(900)
    const err = await refused(limiter.admit(k, 200))
    expect(err.details).toMatchObject({ limit: 'tpm', retryAfterSeconds: 60 })
    expect(err.message).toContain('900 tokens in the last minute')
  })

  it('keeps counting whatever the size of a reservation', async () => {
    const { limiter, key } = await fresh()
    const k = key({ rpm: 2, tpm: 4e15 })
    ;(await limiter.admit(k, 1e15)).settle(null)
    const second = await limiter.admit(k, 1)
    expect(second.headers['x-ratelimit-remaining-tokens']).toBe(String(4e15 - 1e15 - 1))
    expect((await refused(limiter.admit(k, 1))).details).toMatchObject({ limit: 'rpm' })
  })

  it('refuses a request that reserves more than the whole tpm, saying what to lower', async () => {
    const { limiter, key } = await fresh()
    const err = await refused(limiter.admit(key({ tpm: 100 }), 101))
    expect(err.message).toMatch(/reserves 101 tokens.*lower max_tokens/)
  })

  it('counts daily tokens from what the key used earlier today, until UTC midnight', async () => {
    const { clock, limiter, key } = await setup((key) => new Map([[key({}).hash, 900]]))
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
    const { limiter, key } = await fresh()
    await limiter.admit(key({ rpm: 1 }, 'a'), 1)
    await refused(limiter.admit(key({ rpm: 1 }, 'a'), 1))
    const other = await limiter.admit(key({ rpm: 1 }, 'b'), 1)
    expect(other.headers).not.toHaveProperty('x-ratelimit-limit-tokens')
    expect((await limiter.admit(key({ concurrency: 9 }, 'c'), 1)).headers).toEqual({})
  })
}
