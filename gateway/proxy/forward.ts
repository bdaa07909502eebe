import type { ServerResponse } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Dispatcher } from 'undici'
import { modelAllowed } from '../auth/access.js'
import { reservation, type Limiter, type Ticket } from '../auth/limits.js'
import type { ApiKeyRecord } from '../contract/keys.js'
import { CortexError } from '../contract/errors.js'
import type { Lease, ModelRegistry } from '../engines/types.js'
import type { UsageRecord, UsageSink } from '../contract/usage.js'
import { readRequest, type RequestFields } from './body.js'
import { renameModelInJson, upstreamBody } from './rewrite.js'
import { SseRelay, errorFrame } from './sse.js'
import { ResponseEnds, type Usage } from './usage.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The configured name of the model a request was routed to (for the request log line); null before routing. */
    cortexModel: string | null
    /** The caller's API key (set by the /v1 auth hook); null for a keyless caller. */
    cortexKey: ApiKeyRecord | null
  }
}

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
}

/** An inference endpoint, by its path after `/v1`. */
export interface Endpoint {
  path: string
  /** The body field the endpoint cannot do without, besides `model`. */
  requires?: 'messages' | 'prompt' | 'input'
  /** The endpoint streams OpenAI chunks that honour `stream_options.include_usage`. */
  requestUsage: boolean
}

const EMPTY = Buffer.alloc(0)

/** How much of each end of a JSON response is kept to read `usage` from. */
const USAGE_END_BYTES = 16 * 1024

const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
])

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

/** 404 listing the models this caller may use, and only those. */
export function modelNotFound(registry: ModelRegistry, name: string, key: ApiKeyRecord | null): CortexError {
  const names = registry
    .statuses()
    .filter((s) => modelAllowed(key, s))
    .map((s) => (s.aliases.length > 0 ? `${s.name} (alias ${s.aliases.join(', ')})` : s.name))
  const available = names.length > 0 ? `available models: ${names.join('; ')}` : 'no models are configured'
  return new CortexError('model_not_found', `model "${name}" does not exist; ${available}`)
}

/** An undici failure in the catalogue's terms; null when the upstream is not to blame. */
function upstreamError(err: unknown, lease: Lease): CortexError | null {
  const code = (err as { code?: unknown }).code
  const where = `model "${lease.target.model}" (replica ${lease.target.replica})`
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new CortexError('upstream_timeout', `${where} stopped answering (${code}); check the engine's log`)
  }
  if (typeof code === 'string' && NETWORK_ERRORS.has(code)) {
    return new CortexError('upstream_unreachable', `${where} could not be reached: ${(err as Error).message} (${code})`)
  }
  return null
}

/** Resolves on 'drain', or on 'close' (the client left; the abort signal ends the upstream side). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}

/**
 * Proxies one inference request: routing fields from the raw body, a lease from the registry,
 * the body to the engine, the response back as it arrives, one usage record when it ends.
 */
export async function proxy(ctx: ProxyContext, req: FastifyRequest, reply: FastifyReply, endpoint: Endpoint): Promise<void> {
  const t0 = performance.now()
  // A POST without a body (curl -X POST with no -d) reaches here with none: it is answered as empty JSON.
  const raw = (req.body as Buffer | undefined) ?? EMPTY
  const fields = readRequest(raw)
  const asked = requireFields(fields, endpoint)
  const def = ctx.registry.resolve(asked)
  const key = req.cortexKey
  if (def === undefined) throw modelNotFound(ctx.registry, asked, key)
  if (!modelAllowed(key, def)) {
    const allowed = key!.models!.join(', ')
    throw new CortexError('model_not_allowed', `the API key "${key!.name}" may not use model "${asked}"; it may use: ${allowed}`)
  }
  req.cortexModel = def.name

  // The client leaving must stop generation at once: llama-server stops a slot when its connection closes.
  const abort = new AbortController()
  const onClose = () => {
    if (!reply.raw.writableEnded) abort.abort(new Error('client closed the connection'))
  }
  if (reply.raw.destroyed) onClose()
  else reply.raw.on('close', onClose)
  const flight = new Flight(ctx.usage, t0, {
    ts: Date.now(),
    requestId: req.id,
    keyId: key?.id ?? null,
    orgId: key?.orgId ?? null,
    model: def.name,
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
    bytesIn: raw.length,
    bytesOut: 0,
  })

  let lease: Lease
  const admitting = performance.now()
  try {
    // Checked before the model's queue, so a key over its concurrency never takes a queue place from another.
    if (key !== null && hasLimits(key)) {
      flight.ticket = await ctx.limiter.admit(key, reservation(fields.maxTokens ?? fields.maxCompletionTokens, raw.length))
      reply.headers(flight.ticket.headers)
    }
    lease = await ctx.registry.acquire(def.name, abort.signal)
  } catch (err) {
    return flight.failed(err, reply, abort.signal, err instanceof CortexError ? err : null)
  }
  // performance.now() on both sides of the wait: waitedMs is whole milliseconds, too coarse for the overhead.
  const admitted = performance.now()
  flight.record.replica = lease.target.replica
  flight.record.queueMs = lease.waitedMs
  try {
    const { body, hideUsage } = upstreamBody(raw, fields, {
      requestUsage: endpoint.requestUsage,
      upstreamModel: lease.target.upstreamModel,
    })
    flight.record.overheadMs = admitting - t0 + (performance.now() - admitted)
    let upstream: Dispatcher.ResponseData
    try {
      upstream = await send(ctx.options, req, lease, body, endpoint.path, abort.signal)
    } catch (err) {
      return flight.failed(err, reply, abort.signal, upstreamError(err, lease))
    }
    const { upstreamModel } = lease.target
    const renameModel = upstreamModel !== undefined && asked !== upstreamModel ? { from: upstreamModel, to: asked } : undefined
    await relay(req, reply, upstream, flight, { hideUsage, renameModel, lease, signal: abort.signal })
  } finally {
    lease.release()
    // Only if the request ended some way that recorded nothing: a concurrency slot must never leak.
    flight.ticket?.settle(null)
  }
}

const hasLimits = (key: ApiKeyRecord) => Object.values(key.limits).some((limit) => limit !== null)

/** One request's usage record, written exactly once when the request ends. */
class Flight {
  /** The request's hold on its key's limits, settled with its real tokens when it ends. */
  ticket: Ticket | null = null

  constructor(
    private readonly sink: UsageSink,
    readonly t0: number,
    readonly record: UsageRecord,
  ) {}

  end(status: number, usage: Usage | null): void {
    this.record.status = status
    this.record.promptTokens = usage?.promptTokens ?? null
    this.record.completionTokens = usage?.completionTokens ?? null
    this.record.totalMs = performance.now() - this.t0
    const known = usage !== null && (usage.promptTokens !== null || usage.completionTokens !== null)
    // Tokens the engine reported; none for a request it never got (a 503 while loading must not eat the budget) or
    // refused (a 400 for a max_tokens past the context); else, as for a client that left mid-answer (499), its
    // reservation, since the engine may have generated without saying how much.
    const refused = this.record.overheadMs === null || (status >= 400 && status !== 499)
    this.ticket?.settle(known ? (usage.promptTokens ?? 0) + (usage.completionTokens ?? 0) : refused ? 0 : null)
    this.sink.record(this.record)
  }

  /** Before any response byte: a client that left gets nothing (499); otherwise the error goes to the error handler. */
  failed(err: unknown, reply: FastifyReply, signal: AbortSignal, mapped: CortexError | null): void {
    if (signal.aborted) {
      this.end(499, null)
      reply.hijack()
      return
    }
    this.end(mapped?.status ?? 500, null)
    throw mapped ?? err
  }
}

function send(
  options: ProxyOptions,
  req: FastifyRequest,
  lease: Lease,
  body: Buffer,
  path: string,
  signal: AbortSignal,
): Promise<Dispatcher.ResponseData> {
  const { target } = lease
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (req.headers.accept !== undefined) headers.accept = req.headers.accept
  // The client's Authorization is for Cortex: engines get none, remotes get their own key.
  if (target.apiKey !== undefined) headers.authorization = `Bearer ${target.apiKey}`
  const query = req.url.indexOf('?')
  return target.dispatcher.request({
    path: target.apiRoot + (query >= 0 ? path + req.url.slice(query) : path),
    method: 'POST',
    headers,
    body,
    signal,
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
  })
}

interface RelayOptions {
  hideUsage: boolean
  renameModel: { from: string; to: string } | undefined
  lease: Lease
  signal: AbortSignal
}

/** Sends the upstream response to the client as it arrives: SSE frame by frame, anything else chunk by chunk. */
async function relay(
  req: FastifyRequest,
  reply: FastifyReply,
  upstream: Dispatcher.ResponseData,
  flight: Flight,
  o: RelayOptions,
) {
  const res = reply.raw
  const contentType = String(upstream.headers['content-type'] ?? 'application/json')
  const sse = contentType.startsWith('text/event-stream')
    ? new SseRelay({ hideUsage: o.hideUsage, renameModel: o.renameModel })
    : null
  // A remote's JSON answer is held whole only to put the client's model name back into it.
  const hold = sse === null && o.renameModel !== undefined && contentType.includes('json')
  const headers: Record<string, string | number | string[] | undefined> = { ...reply.getHeaders(), 'content-type': contentType }
  // What a client needs to back off from a remote's 429/503 (the OpenAI SDK reads these).
  for (const [name, value] of Object.entries(upstream.headers)) {
    if ((name === 'retry-after' || name.startsWith('x-ratelimit-')) && headers[name] === undefined) headers[name] = value
  }
  if (sse !== null) Object.assign(headers, { 'cache-control': 'no-cache', 'x-accel-buffering': 'no' })
  else if (!hold && upstream.headers['content-length'] !== undefined)
    headers['content-length'] = upstream.headers['content-length']
  reply.hijack()

  const write = async (bytes: Buffer) => {
    if (bytes.length === 0) return
    flight.record.bytesOut += bytes.length
    if (!res.write(bytes)) await drained(res)
  }
  const ends = new ResponseEnds(hold ? Infinity : USAGE_END_BYTES)
  let status = upstream.statusCode
  try {
    res.writeHead(status, headers)
    for await (const chunk of upstream.body as AsyncIterable<Buffer>) {
      if (sse === null) {
        ends.push(chunk)
        if (!hold) await write(chunk)
        continue
      }
      const bytes = sse.push(chunk)
      if (flight.record.ttftMs === null && sse.sawToken) flight.record.ttftMs = performance.now() - flight.t0
      await write(bytes)
    }
    if (sse !== null) await write(sse.end())
    else if (hold) await write(renameModelInJson(ends.whole(), o.renameModel!.from, o.renameModel!.to))
    res.end()
  } catch (err) {
    upstream.body.destroy()
    status = o.signal.aborted ? 499 : failMidway(err, req, res, sse, flight, o.lease)
  }
  flight.end(status, sse !== null ? sse.usage : ends.usage())
}

/** After the headers went out: an SSE client gets a final error frame, any other loses the connection. Returns the status to record. */
function failMidway(
  err: unknown,
  req: FastifyRequest,
  res: ServerResponse,
  sse: SseRelay | null,
  flight: Flight,
  lease: Lease,
): number {
  const mapped = upstreamError(err, lease)
  if (mapped === null) req.log.error({ err }, 'relaying the upstream response failed')
  if (sse === null) {
    // Cut the connection so that a truncated body cannot pass for a complete one.
    res.destroy()
  } else {
    const frame = errorFrame(
      mapped?.code ?? 'internal_error',
      mapped?.message ?? 'the gateway failed while relaying the stream; see its log',
    )
    flight.record.bytesOut += frame.length
    res.end(frame)
  }
  return mapped?.status ?? 500
}
