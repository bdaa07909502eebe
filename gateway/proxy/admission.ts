import { reservation } from '../auth/limits.js'
import { CortexError } from '../contract/errors.js'
import type { ApiKeyRecord } from '../contract/keys.js'
import type { ModelDefinition } from '../contract/model.js'
import type { Lease } from '../engines/types.js'
import { configuredContext } from '../router/context.js'
import { route, type ModelTable, type RequestFacts } from '../router/route.js'
import { affinityKey } from './affinity.js'
import { probeCache, type CacheProbe } from './cache.js'
import type { CachedAnswer } from './cache-store.js'
import { readRequest, reservedOutput, type RequestFields } from './body.js'
import { Flight } from './flight.js'
import type { Endpoint, Exchange, ProxyContext } from './types.js'

/** An admitted request: routed, within its key's limits, holding a slot on a replica. */
export interface Admission {
  fields: RequestFields
  /** The name or alias the client sent. */
  asked: string
  /** The model's own name, when the request came through a route: the engine is asked for it, not for the route. */
  viaRoute: string | undefined
  flight: Flight
  lease: Lease
  /** performance.now() when admission began waiting (limits, queue, cold start) and when it was done. */
  waitFrom: number
  waitUntil: number
  /** A cacheable request the cache did not hold: the engine's answer is kept. */
  cache: CacheProbe | null
}

/** A request answered from the completion cache: within its key's limits, and no engine asked. */
export interface CachedAdmission {
  fields: RequestFields
  asked: string
  flight: Flight
  cached: CachedAnswer
}

function requireFields(fields: RequestFields, endpoint: Endpoint): string {
  if (typeof fields.model !== 'string' || fields.model === '') {
    throw new CortexError('invalid_request', '"model" must be the name of a model (a string); GET /v1/models lists them', {
      param: 'model',
    })
  }
  const field = endpoint.requires
  if (field !== undefined && !fields.has[field]) {
    throw new CortexError('invalid_request', `"${field}" is required for /v1${endpoint.path}`, { param: field })
  }
  return fields.model
}

const hasLimits = (key: ApiKeyRecord) => Object.values(key.limits).some((limit) => limit !== null)

/** What routing reads of a request: the estimate tpm uses (body bytes ÷ 4), the output cap, and its headers. */
function requestFacts(asked: string, fields: RequestFields, ex: Exchange, now: number): RequestFacts {
  const { cap, n } = fields.output
  return {
    model: asked,
    promptTokens: Math.ceil(ex.body.length / 4),
    outputTokens: cap === null ? null : cap * n,
    now,
    header: (name) => {
      const value = ex.headers[name]
      return Array.isArray(value) ? value[0] : value
    },
  }
}

function modelTable(ctx: ProxyContext): ModelTable {
  return {
    resolve: (name) => ctx.registry.resolve(name),
    all: () => ctx.registry.statuses(),
    resolveRoute: (name) => ctx.routes?.resolve(name),
    routes: () => ctx.routes?.all() ?? [],
    contextOf: (name) => {
      const def = ctx.registry.resolve(name)
      return ctx.registry.contextLength(name) ?? (def === undefined ? null : configuredContext(def))
    },
    orgName: (id) => ctx.orgName?.(id),
  }
}

/** A lease on the first candidate with room: when one's queue is full the next takes the request (spillover). */
async function leaseFirstWithRoom(
  ctx: ProxyContext,
  candidates: ModelDefinition[],
  signal: AbortSignal,
  affinity: string | undefined,
  switched: (def: ModelDefinition) => void,
): Promise<Lease> {
  for (const [i, def] of candidates.entries()) {
    if (i > 0) switched(def)
    try {
      return await ctx.registry.acquire(def.name, signal, affinity)
    } catch (err) {
      const last = i === candidates.length - 1
      if (last || !(err instanceof CortexError) || err.code !== 'queue_full') throw err
    }
  }
  throw new Error('no candidates to lease')
}

/**
 * Admission: the routing fields from the raw body, a route, the key's limits, and a lease on a replica. Throws
 * CortexError before any byte of an answer; a refusal after routing is recorded (the flight ends with its status).
 * Resolves null when the client left while waiting (recorded as 499; nothing is answered).
 */
export async function admit(
  ctx: ProxyContext,
  ex: Exchange,
  endpoint: Endpoint,
  signal: AbortSignal,
  t0: number,
): Promise<Admission | CachedAdmission | null> {
  const fields = readRequest(ex.body)
  const asked = requireFields(fields, endpoint)
  const { key } = ex
  const now = (ctx.now ?? Date.now)()
  const decision = route(requestFacts(asked, fields, ex, now), key, modelTable(ctx))
  if (decision.refusal) throw decision.refusal
  const { candidates } = decision
  let def = candidates[0]!
  ex.routed(def.name)
  const flight = new Flight(ctx.usage, t0, {
    ts: Date.now(),
    requestId: ex.id,
    keyId: key?.id ?? null,
    orgId: key?.orgId ?? null,
    model: def.name,
    route: decision.route?.name ?? null,
    replica: null,
    endpoint: `/v1${endpoint.path}`,
    status: 0,
    stream: fields.stream === true,
    promptTokens: null,
    completionTokens: null,
    ttftMs: null,
    totalMs: 0,
    queueMs: null,
    overheadMs: null,
    bytesIn: ex.body.length,
    bytesOut: 0,
  })
  const waitFrom = performance.now()
  try {
    // Only a model or route with a cache pays for the lookup (a scan and a hash of the body).
    const probe =
      ctx.cache !== undefined && (decision.route ?? def).cache !== undefined
        ? await probeCache(ctx.cache, {
            body: ex.body,
            headers: ex.headers,
            key,
            endpoint: endpoint.path,
            stream: fields.stream === true,
            route: decision.route,
            candidates,
            now,
          })
        : null
    if (probe !== null) {
      flight.record.cache = probe.hit === null ? 'miss' : 'hit'
      ex.setHeader('x-cortex-cache', flight.record.cache)
    }
    // Checked before the model's queue, so a key over its concurrency never takes a queue place from another.
    if (key !== null && hasLimits(key)) {
      const context = key.limits.tpm !== null || key.limits.dailyTokens !== null ? ctx.registry.contextLength(def.name) : null
      // A hit counts for rpm and concurrency but reserves no tokens: it spends none.
      const tokens = probe?.hit ? 0 : reservation(reservedOutput(fields, endpoint), ex.body.length, context)
      flight.ticket = await ctx.limiter.admit(key, tokens)
      for (const [name, value] of Object.entries(flight.ticket.headers)) ex.setHeader(name, value)
    }
    if (probe?.hit) return { fields, asked, flight, cached: probe.hit }
    // Only a model with several replicas has a choice to make: the others skip the hashing.
    const several = candidates.some((c) => Math.max(c.replicas, c.baseUrls.length) > 1)
    const affinity = several ? affinityKey(ex.body, fields.scan.members.get('messages'), ex.headers) : undefined
    const lease = await leaseFirstWithRoom(ctx, candidates, signal, affinity, (next) => {
      def = next
      flight.record.model = next.name
      ex.routed(next.name)
    })
    flight.record.replica = lease.target.replica
    flight.record.queueMs = lease.waitedMs
    // performance.now() on both sides of the wait: waitedMs is whole milliseconds, too coarse for the overhead.
    const viaRoute = decision.route === null ? undefined : def.name
    return { fields, asked, viaRoute, flight, lease, waitFrom, waitUntil: performance.now(), cache: probe }
  } catch (err) {
    return refuse(flight, ex, signal, err, err instanceof CortexError ? err : null)
  }
}

/** Before any response byte: a client that left gets nothing (499); otherwise the error goes to the HTTP layer, once
 *  its usage row is committed. */
export async function refuse(
  flight: Flight,
  ex: Exchange,
  signal: AbortSignal,
  err: unknown,
  mapped: CortexError | null,
): Promise<null> {
  if (signal.aborted) {
    ex.takeOver()
    await flight.end(499, null)
    return null
  }
  await flight.end(mapped?.status ?? 500, null)
  throw mapped ?? err
}
