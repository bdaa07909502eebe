import type { CachePolicy } from '../contract/cache.js'
import type { Usage } from './usage.js'

/** One answer as the engine sent it, kept to answer an identical request again. */
export interface CachedAnswer {
  /** A whole JSON body, or the SSE frames of a stream (with the usage chunk the gateway asked for). */
  kind: 'json' | 'sse'
  contentType: string
  body: Buffer
  usage: Usage | null
  /** The name the engine answered under, when the client's differed (a remote's upstreamModel, a route's target). */
  upstreamModel: string | null
}

/** Where answers are kept: SQLite in the data directory (store/cache.ts) or Redis (proxy/cache-redis.ts). */
export interface CacheStore {
  /** The answer kept under `key`, unexpired, marked as just used; null when there is none. */
  get(key: string, now: number): Promise<CachedAnswer | null>
  /** Keeps an answer for `scope` (a model's or route's cache), dropping that scope's least recently used answers
   *  past its maxBytes. An answer larger than maxBytes is not kept. */
  put(key: string, scope: string, answer: CachedAnswer, policy: CachePolicy, now: number): void
  /** Bytes kept in all scopes (for /metrics); null when the store cannot tell cheaply. */
  bytes(): number | null
  close(): Promise<void>
}

/** What an answer costs against maxBytes: its body and a little for its row. */
export const answerBytes = (answer: CachedAnswer) => answer.body.length + answer.contentType.length + 64
