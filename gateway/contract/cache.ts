import Type, { type Static } from 'typebox'
import { ByteSize, Duration } from './units.js'

/**
 * The completion cache of one model or route (`cache:` on it; off without). Deterministic requests (temperature 0, or
 * a `seed`) and those sent with `x-cortex-cache: force` are answered from it when an identical one was answered before.
 */
export const CacheConfig = Type.Object(
  {
    ttl: Type.Optional(Duration),
    maxBytes: Type.Optional(ByteSize),
    /** One cache for every organization: off by default, since a hit would tell one organization another's prompts. */
    shared: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, description: 'completion cache: { ttl (default 1h), maxBytes (default 256MiB), shared }' },
)
export type CacheConfig = Static<typeof CacheConfig>

/** The top-level `cache:` section: where the models' and routes' caches are kept. */
export const CacheStoreConfig = Type.Object(
  {
    redis: Type.Optional(
      Type.Union([Type.String({ pattern: '^rediss?://', description: 'a Redis URL like redis://127.0.0.1:6379' }), Type.Null()], {
        description: 'keep the caches in Redis, shared by gateways (default: limits.redis); null = SQLite in the data directory',
      }),
    ),
  },
  { additionalProperties: false },
)

/** A cache setting after normalization. */
export interface CachePolicy {
  ttlMs: number
  maxBytes: number
  shared: boolean
}

export const CACHE_DEFAULTS: CachePolicy = { ttlMs: 60 * 60_000, maxBytes: 256 * 1024 * 1024, shared: false }

/** `x-cortex-cache` on an answer: `hit` from the cache, `miss` for a cacheable request the engine answered. */
export type CacheOutcome = 'hit' | 'miss'
