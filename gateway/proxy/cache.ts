import type { IncomingHttpHeaders } from 'node:http'
import type { CachePolicy } from '../contract/cache.js'
import type { ApiKeyRecord } from '../contract/keys.js'
import type { ModelDefinition } from '../contract/model.js'
import type { RouteDefinition } from '../contract/routes.js'
import { cacheKey, revision } from './cache-key.js'
import { convertible } from './cache-shape.js'
import type { CachedAnswer, CacheStore } from './cache-store.js'
import type { Usage } from './usage.js'

/** A cacheable request: its key, the cache it belongs to, and the answer kept for it (null: a miss). */
export interface CacheProbe {
  key: string
  /** `model:<name>` or `route:<name>`: whose maxBytes the answer counts against. */
  scope: string
  policy: CachePolicy
  hit: CachedAnswer | null
}

export interface ProbeRequest {
  body: Buffer
  headers: IncomingHttpHeaders
  key: ApiKeyRecord | null
  /** The endpoint's path after /v1. */
  endpoint: string
  /** Whether the client asked for a stream. */
  stream: boolean
  route: RouteDefinition | null
  /** The models routing chose, in order (one for a plain model). */
  candidates: readonly ModelDefinition[]
  now: number
}

/**
 * Looks a request up in its model's or route's cache. Null, at the cost of a property read, when neither has one or
 * the key opted out; null too when the request is not deterministic. A kept answer that cannot be given in the shape
 * asked (a stream from a whole answer of an endpoint whose chunks Cortex cannot write) is a miss: the engine's new
 * answer replaces it.
 */
export async function probeCache(store: CacheStore, req: ProbeRequest): Promise<CacheProbe | null> {
  const policy = req.route === null ? req.candidates[0]?.cache : req.route.cache
  if (policy === undefined || req.key?.cache === false) return null
  // Through a route, every candidate's revision counts: a spillover target may be the one that answered.
  const rev = req.candidates.map(revision).join(':')
  const org = policy.shared ? null : (req.key?.orgId ?? null)
  const key = cacheKey(req.body, req.headers, { revision: rev, org, endpoint: req.endpoint })
  if (key === null) return null
  const scope = req.route === null ? `model:${req.candidates[0]!.name}` : `route:${req.route.name}`
  const kept = await store.get(key, req.now)
  const hit = kept !== null && convertible(kept, req.stream, req.endpoint) ? kept : null
  return { key, scope, policy, hit }
}

/** Gathers an engine's answer to a cacheable request as it is relayed, and keeps it when it ends well. */
export class Capture {
  private chunks: Buffer[] = []
  private size = 0
  private tooLarge = false

  constructor(
    private readonly store: CacheStore,
    private readonly probe: CacheProbe,
    private readonly upstreamModel: string | null,
    private readonly now: () => number,
  ) {}

  /** One chunk of the upstream body, as the engine sent it. */
  push(chunk: Buffer): void {
    if (this.tooLarge) return
    this.size += chunk.length
    if (this.size > this.probe.policy.maxBytes) {
      this.tooLarge = true
      this.chunks = []
      return
    }
    this.chunks.push(chunk)
  }

  /** The answer is complete: only a 200 in JSON or SSE is kept. */
  finish(status: number, contentType: string, usage: Usage | null): void {
    if (this.tooLarge || status !== 200) return
    const kind = contentType.startsWith('text/event-stream') ? 'sse' : contentType.includes('json') ? 'json' : null
    if (kind === null) return
    const answer: CachedAnswer = {
      kind,
      contentType,
      body: Buffer.concat(this.chunks, this.size),
      usage,
      upstreamModel: this.upstreamModel,
    }
    this.store.put(this.probe.key, this.probe.scope, answer, this.probe.policy, this.now())
  }
}
