import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { expect, it } from 'vitest'
import type { CachePolicy } from '../contract/cache.js'
import { answerBytes, type CachedAnswer, type CacheStore } from './cache-store.js'

export const cachedAnswer = (text: string): CachedAnswer => ({
  kind: 'json',
  contentType: 'application/json',
  body: Buffer.from(JSON.stringify({ text })),
  usage: { promptTokens: 3, completionTokens: 5 },
  upstreamModel: null,
})
export const answerSize = answerBytes(cachedAnswer('aaaa'))
export const cachePolicy = (o: Partial<CachePolicy> = {}): CachePolicy => ({
  ttlMs: 60_000,
  maxBytes: 10 * answerSize,
  shared: false,
  ...o,
})

/** What every CacheStore does, whichever keeps the answers (SQLite, Redis): keys and scopes are fresh per case. */
export function cacheStoreCases(make: () => Promise<CacheStore>): void {
  const fresh = () => randomUUID().slice(0, 8)

  it('gives back what it kept, with its usage, and nothing for another key', async () => {
    const cache = await make()
    const [k, scope] = [fresh(), `model:${fresh()}`]
    cache.put(k, scope, cachedAnswer('aaaa'), cachePolicy(), Date.now())
    expect(await cache.get(k, Date.now())).toEqual(cachedAnswer('aaaa'))
    expect(await cache.get(fresh(), Date.now())).toBeNull()
    await cache.close()
  })

  it('forgets an answer once its ttl has passed', async () => {
    const cache = await make()
    const [k, scope] = [fresh(), `model:${fresh()}`]
    cache.put(k, scope, cachedAnswer('aaaa'), cachePolicy({ ttlMs: 150 }), Date.now())
    expect(await cache.get(k, Date.now())).not.toBeNull()
    await sleep(200)
    expect(await cache.get(k, Date.now())).toBeNull()
    await cache.close()
  })

  it('keeps each scope within its maxBytes by dropping its least recently used answers, not another scope’s', async () => {
    const cache = await make()
    const [scope, other] = [`model:${fresh()}`, `route:${fresh()}`]
    const [a, b, c, d, o] = [fresh(), fresh(), fresh(), fresh(), fresh()]
    const p = cachePolicy({ maxBytes: 3 * answerSize })
    cache.put(o, other, cachedAnswer('aaaa'), p, 1)
    for (const [i, k] of [a, b, c].entries()) cache.put(k, scope, cachedAnswer('aaaa'), p, 10 + i)
    // Reading "a" makes "b" the least recently used one.
    expect(await cache.get(a, 20)).not.toBeNull()
    cache.put(d, scope, cachedAnswer('aaaa'), p, 30)
    const kept = await Promise.all([a, b, c, d, o].map(async (k) => (await cache.get(k, 40)) !== null))
    expect(kept).toEqual([true, false, true, true, true])
    await cache.close()
  })

  it('does not keep an answer larger than maxBytes, and replaces an answer kept under the same key', async () => {
    const cache = await make()
    const [big, k, scope] = [fresh(), fresh(), `model:${fresh()}`]
    cache.put(big, scope, cachedAnswer('x'.repeat(1000)), cachePolicy({ maxBytes: answerSize }), 1)
    expect(await cache.get(big, 2)).toBeNull()
    cache.put(k, scope, cachedAnswer('aaaa'), cachePolicy(), 1)
    cache.put(k, scope, cachedAnswer('bbbb'), cachePolicy(), 2)
    expect((await cache.get(k, 3))?.body.toString()).toBe('{"text":"bbbb"}')
    await cache.close()
  })
}
