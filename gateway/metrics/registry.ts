import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { UsageRecord, UsageSink } from '../contract/usage.js'
import { registerEngineMetrics, registerGpuMetrics, type EngineSource, type GpuSource } from './collectors.js'

export interface MetricsSources {
  /** The engine manager: states, in-flight requests and restarts are read from it, never on the request path. */
  engines: EngineSource
  /** GPU series come from its latest sample, which it takes at most once per interval. */
  system: GpuSource
  /** The completion caches' bytes, read at scrape time; null when the store cannot tell. */
  cache?: { bytes(): number | null }
}

export interface Metrics {
  /** This core's own registry, never prom-client's global one: two cores in one process must not collide. */
  readonly registry: Registry
  /** Counts one finished request: a few increments, nothing else, since it runs as each request ends. */
  observe(row: UsageRecord): void
  /** Counts a request refused by the key checks (their error code) or a rate limit (its name). */
  refused(reason: string): void
  /** Stops following the engine manager's events. */
  close(): void
}

/**
 * The paths of `POST /v1/*` that get their own `endpoint` label. Anything else a client posts is forwarded as it is,
 * so it is counted as `other`: a client must not be able to mint series.
 */
const ENDPOINTS = new Set([
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
  '/v1/responses',
  '/v1/messages',
  '/v1/rerank',
  '/v1/audio/transcriptions',
  '/v1/audio/speech',
])

const endpointLabel = (path: string): string => (ENDPOINTS.has(path) ? path : 'other')

// Generation takes seconds to minutes; a queue wait can last a whole cold start (120 s by default); the gateway's own
// share is well under a millisecond when all is well (PERFORMANCE.md), so its buckets start at 50 µs.
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300]
const TTFT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const QUEUE_BUCKETS = [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120]
const OVERHEAD_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1]

/** A counter throws on a negative increment, and usage comes from the engine: a bogus figure must not fail the request. */
const counted = (n: number | null): n is number => n !== null && n > 0

export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry()
  const registers = [registry]
  // Prefixed so that engines' own series, re-exposed here later (vLLM's include process_*), cannot collide with ours.
  collectDefaultMetrics({ register: registry, prefix: 'cortex_' })

  const requests = new Counter({
    name: 'cortex_requests_total',
    help: 'Proxied requests by model, endpoint and HTTP status (499: the client went away)',
    labelNames: ['model', 'endpoint', 'status'] as const,
    registers,
  })
  const duration = new Histogram({
    name: 'cortex_request_duration_seconds',
    help: 'Time from the gateway taking a proxied request to its last response byte',
    labelNames: ['model', 'endpoint'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  })
  const ttft = new Histogram({
    name: 'cortex_time_to_first_token_seconds',
    help: 'Time from the gateway taking a streamed request to the first token it relayed',
    labelNames: ['model'] as const,
    buckets: TTFT_BUCKETS,
    registers,
  })
  const tokens = new Counter({
    name: 'cortex_tokens_total',
    help: 'Tokens the engines reported in usage, by direction (prompt or completion)',
    labelNames: ['model', 'direction'] as const,
    registers,
  })
  const queueWait = new Histogram({
    name: 'cortex_queue_wait_seconds',
    help: 'Time admitted requests waited for a cold start or a free slot',
    labelNames: ['model'] as const,
    buckets: QUEUE_BUCKETS,
    registers,
  })
  const overhead = new Histogram({
    name: 'cortex_gateway_overhead_seconds',
    help: 'Time the gateway spent on a request before the engine got it (parsing, routing, rewriting), without the queue wait',
    buckets: OVERHEAD_BUCKETS,
    registers,
  })
  const refusals = new Counter({
    name: 'cortex_refused_requests_total',
    help: 'Requests refused by a key check (invalid_api_key, also for a wrong admin token; ip_not_allowed, scope_not_allowed, model_not_allowed) or a rate limit (rpm, tpm, concurrency, dailyTokens)',
    labelNames: ['reason'] as const,
    registers,
  })
  const routed = new Counter({
    name: 'cortex_route_requests_total',
    help: 'Requests that named a route, by route, the model (target) that served and HTTP status',
    labelNames: ['route', 'model', 'status'] as const,
    registers,
  })
  const cacheLookups = new Counter({
    name: 'cortex_cache_requests_total',
    help: 'Cacheable requests by the model that served or would have, and result: hit (answered from the completion cache) or miss',
    labelNames: ['model', 'result'] as const,
    registers,
  })
  const cacheStore = sources.cache
  if (cacheStore !== undefined) {
    new Gauge({
      name: 'cortex_cache_bytes',
      help: 'Bytes the completion caches keep',
      registers,
      collect() {
        const bytes = cacheStore.bytes()
        if (bytes !== null) this.set(bytes)
      },
    })
  }
  const unsubscribe = registerEngineMetrics(registers, sources.engines)
  registerGpuMetrics(registers, sources.system)

  return {
    registry,
    observe(row) {
      const { model } = row
      const endpoint = endpointLabel(row.endpoint)
      requests.inc({ model, endpoint, status: row.status })
      duration.observe({ model, endpoint }, row.totalMs / 1000)
      if (row.ttftMs !== null) ttft.observe({ model }, row.ttftMs / 1000)
      if (counted(row.promptTokens)) tokens.inc({ model, direction: 'prompt' }, row.promptTokens)
      if (counted(row.completionTokens)) tokens.inc({ model, direction: 'completion' }, row.completionTokens)
      if (row.queueMs !== null) queueWait.observe({ model }, row.queueMs / 1000)
      if (row.overheadMs !== null) overhead.observe(row.overheadMs / 1000)
      if (row.route !== null) routed.inc({ route: row.route, model, status: row.status })
      if (row.cache != null) cacheLookups.inc({ model, result: row.cache })
    },
    refused: (reason) => refusals.inc({ reason }),
    close: unsubscribe,
  }
}

/** Wraps the usage sink: every proxied request already ends in exactly one record, so metrics cost no other hook. */
export function metricsSink(inner: UsageSink, metrics: Pick<Metrics, 'observe'>): UsageSink {
  return {
    record(row) {
      // The durable row first: a series that fails to count must not cost the request its usage row.
      inner.record(row)
      metrics.observe(row)
    },
    recordGrouped(row) {
      const committed = inner.recordGrouped(row)
      metrics.observe(row)
      return committed
    },
  }
}
