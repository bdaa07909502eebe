import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import type { Limiter } from '../auth/limits.js'
import type { ApiKeyRecord } from '../contract/keys.js'
import type { UsageSink } from '../contract/usage.js'
import type { ModelRegistry } from '../engines/types.js'
import type { RouteTable } from '../router/route.js'
import type { CacheStore } from './cache-store.js'
import type { Dialect } from './dialects/types.js'

export interface ProxyOptions {
  /** How long an engine may take to send response headers (0 = no limit); llama-server sends none until a non-stream
   *  answer is done, so this bounds the whole generation. */
  headersTimeoutMs: number
  /** Longest silence between body chunks; 0 = none, so no total generation timeout. */
  bodyTimeoutMs: number
}

/** No total generation timeout by default: a non-stream answer's headers come only when it is complete. */
export const defaultProxyOptions: ProxyOptions = { headersTimeoutMs: 0, bodyTimeoutMs: 0 }

export interface ProxyContext {
  registry: ModelRegistry
  usage: UsageSink
  options: ProxyOptions
  /** Per-key limits; keys without limits never reach it. */
  limiter: Limiter
  /** Virtual models; none without it. */
  routes?: RouteTable | undefined
  /** An organization's name by id, for routes' `clients.orgs` rules. */
  orgName?: ((orgId: string) => string | undefined) | undefined
  /** The clock schedules are read against; default Date.now. */
  now?: (() => number) | undefined
  /** Where models' and routes' completion caches are kept; no caching without it. */
  cache?: CacheStore | undefined
}

/** An inference endpoint, by its path after `/v1`. */
export interface Endpoint {
  path: string
  dialect: Dialect
  /** The body field the endpoint cannot do without, besides `model`. */
  requires?: 'messages' | 'prompt' | 'input'
  /** The endpoint streams OpenAI chunks that honour `stream_options.include_usage`. */
  requestUsage: boolean
  /** False for an endpoint that generates no tokens (embeddings, token counts): tpm reserves its prompt alone. */
  generates?: false
  /** Query parameters the upstream API defines for this path, each with the values it defines; every other parameter or
   *  value stays with the gateway. */
  query?: ReadonlyMap<string, ReadonlySet<string>>
}

/**
 * One request as the proxy sees it, whichever HTTP layer carries it: what the client sent, who it is, and the
 * response to write. Errors before the first byte are thrown as CortexError for the HTTP layer to answer.
 */
export interface Exchange {
  readonly id: string
  readonly headers: IncomingHttpHeaders
  /** The query string as the client sent it (`?a=b`, or ''); only the endpoint's own parameters go upstream. */
  readonly search: string
  readonly body: Buffer
  readonly key: ApiKeyRecord | null
  readonly res: ServerResponse
  readonly log: { error(obj: object, msg: string): void }
  /** Adds a header to whatever answer goes out (the limits' x-ratelimit-*). */
  setHeader(name: string, value: string | number): void
  /** The headers the HTTP layer has set so far (request id, CORS, limits). */
  answerHeaders(): Record<string, string | number | string[] | undefined>
  /** Takes the response over: the proxy writes it itself from here on. */
  takeOver(): void
  /** The configured name of the model the request was routed to, for the request log line. */
  routed(model: string): void
}
