import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { redactUrl } from '../auth/redis-limits.js'
import { answerBytes, type CachedAnswer, type CacheStore } from './cache-store.js'

const PREFIX = 'cortex:cache:'

/**
 * Keeps one answer and the scope's bookkeeping in one step: the entry (a hash with its ttl), its last use in the
 * scope's sorted set, its size in the scope's sizes, the scope's total; then drops the least recently used entries
 * while the total is past maxBytes. Sizes outlive their entries' ttl, so an expired entry still counts until it is
 * the oldest and dropped: the bound holds, at the cost of counting a few dead bytes.
 * KEYS: entry, lru, sizes, total. ARGV: key, bytes, now, ttlMs, maxBytes, kind, contentType, body, meta, scope.
 */
const PUT = `
local old = redis.call('HGET', KEYS[3], ARGV[1])
if old then redis.call('DECRBY', KEYS[4], old) end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'kind', ARGV[6], 'ct', ARGV[7], 'body', ARGV[8], 'meta', ARGV[9], 'scope', ARGV[10])
if tonumber(ARGV[4]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
local total = redis.call('INCRBY', KEYS[4], ARGV[2])
while total > tonumber(ARGV[5]) do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not oldest or oldest == ARGV[1] then break end
  local size = redis.call('HGET', KEYS[3], oldest) or 0
  redis.call('ZREM', KEYS[2], oldest)
  redis.call('HDEL', KEYS[3], oldest)
  redis.call('DEL', '${PREFIX}e:' .. oldest)
  total = redis.call('DECRBY', KEYS[4], size)
end
return total
`

interface CacheCommands {
  cortexCachePut(...args: Array<string | number | Buffer>): Promise<number>
}

const scopeKeys = (scope: string) => ({
  lru: `${PREFIX}{${scope}}:lru`,
  sizes: `${PREFIX}{${scope}}:sizes`,
  total: `${PREFIX}{${scope}}:total`,
})

export interface RedisCacheOptions {
  /** `cache.redis`, by default `limits.redis`. */
  url: string
  logger: Logger
}

/**
 * The completion caches in Redis, shared by every gateway that uses it: one hash per answer (expiring with its ttl),
 * and per scope the bookkeeping that keeps it within maxBytes (see PUT). An unreachable Redis is a miss, logged once
 * a minute: an outage of the cache must not become an outage of the API.
 */
export async function createRedisCache(options: RedisCacheOptions): Promise<CacheStore> {
  const { logger } = options
  // Loaded here: a gateway whose config names no Redis never pays for the client.
  const { Redis: RedisClient } = await import('ioredis')
  const redis = new RedisClient(options.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 500,
  }) as Redis & CacheCommands
  redis.defineCommand('cortexCachePut', { numberOfKeys: 4, lua: PUT })
  let warnedAt = -Infinity
  const failed = (err: unknown, what: string) => {
    if (Date.now() - warnedAt < 60_000) return
    warnedAt = Date.now()
    logger.warn({ err: (err as Error).message }, `${what} the completion cache in Redis failed; answering from the engine`)
  }
  redis.on('error', (err: Error) => failed(err, 'reaching'))
  try {
    await redis.connect()
  } catch (err) {
    redis.disconnect()
    throw new Error(`cache.redis: cannot connect to ${redactUrl(options.url)}: ${(err as Error).message}`, { cause: err })
  }
  return {
    async get(key, now) {
      try {
        const [kind, contentType, body, meta, scope] = await redis.hmgetBuffer(
          `${PREFIX}e:${key}`,
          'kind',
          'ct',
          'body',
          'meta',
          'scope',
        )
        if (kind == null || contentType == null || body == null || meta == null || scope == null) return null
        void redis.zadd(scopeKeys(scope.toString()).lru, 'XX', now, key).catch((err: unknown) => failed(err, 'marking a use in'))
        const { usage, upstreamModel } = JSON.parse(meta.toString()) as Pick<CachedAnswer, 'usage' | 'upstreamModel'>
        return { kind: kind.toString() as CachedAnswer['kind'], contentType: contentType.toString(), body, usage, upstreamModel }
      } catch (err) {
        failed(err, 'reading')
        return null
      }
    },
    put(key, scope, answer, policy, now) {
      const bytes = answerBytes(answer)
      if (bytes > policy.maxBytes) return
      const k = scopeKeys(scope)
      const meta = JSON.stringify({ usage: answer.usage, upstreamModel: answer.upstreamModel })
      const args = [key, bytes, now, policy.ttlMs, policy.maxBytes, answer.kind, answer.contentType, answer.body, meta, scope]
      redis
        .cortexCachePut(`${PREFIX}e:${key}`, k.lru, k.sizes, k.total, ...args)
        .catch((err: unknown) => failed(err, 'keeping an answer in'))
    },
    bytes: () => null,
    close: async () => {
      await redis.quit().catch(() => redis.disconnect())
    },
  }
}
