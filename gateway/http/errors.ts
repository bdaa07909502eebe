import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { CortexError, ErrorStatus, type ErrorCode } from '../contract/errors.js'
import type { Diagnosis } from '../contract/model.js'

/** The OpenAI error envelope; a failed start adds what a person needs to fix it. */
interface ErrorBody {
  error: {
    message: string
    type: string
    param: string | null
    code: string | null
    diagnosis?: { cause: string; exit_code: number | null; log_tail: string[] }
  }
}

interface HttpError {
  status: number
  body: ErrorBody
  retryAfterSeconds?: number
  /** e.g. a 429's `x-ratelimit-*`. */
  headers?: Record<string, string>
}

/** Messages that repeat what a client sent are cut here, whatever built them: an answer never echoes megabytes. */
const MAX_MESSAGE = 4096
const MAX_PARAM = 256

function bounded(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (cut from ${text.length} characters)` : text
}

function envelope(status: number, code: string, message: string, param: string | null = null): HttpError {
  const shownParam = param === null ? null : bounded(param, MAX_PARAM)
  const type = status >= 500 ? 'server_error' : 'invalid_request_error'
  return { status, body: { error: { message: bounded(message, MAX_MESSAGE), type, param: shownParam, code } } }
}

/** A catalogue error in OpenAI's envelope, for answers written outside Fastify (the HTTP parser's refusals). */
export function openAiBody(code: ErrorCode, message: string): ErrorBody {
  return envelope(ErrorStatus[code], code, message).body
}

/** Anthropic's error types by status (docs.anthropic.com "Errors"); 503s are its `overloaded_error`, which SDKs retry. */
export function anthropicErrorType(status: number): string {
  switch (status) {
    case 401:
      return 'authentication_error'
    case 403:
      return 'permission_error'
    case 404:
      return 'not_found_error'
    case 413:
      return 'request_too_large'
    case 429:
      return 'rate_limit_error'
    case 503:
      return 'overloaded_error'
  }
  return status >= 500 ? 'api_error' : 'invalid_request_error'
}

export type Envelope = 'openai' | 'anthropic'

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/**
 * The envelope of Cortex's own errors on a path (a raw request URL or a normalized one): Anthropic's on `/v1/messages`
 * and its sub-paths, whose SDKs parse only that one, OpenAI's everywhere else. Segments are decoded and empty ones
 * dropped as the /v1 routes normalize them, so `/v1//%6Dessages/` is Anthropic's too; a malformed escape is kept as sent.
 */
export function envelopeFor(path: string): Envelope {
  const q = path.indexOf('?')
  const segments = (q < 0 ? path : path.slice(0, q)).split('/').filter((s) => s !== '')
  // `;` path parameters do not make another endpoint: `/v1/messages;x` is refused in the Anthropic SDK's envelope too.
  const second = segments.length >= 2 ? decoded(segments[1]!).split(';', 1)[0] : undefined
  return decoded(segments[0] ?? '') === 'v1' && second === 'messages' ? 'anthropic' : 'openai'
}

/** The body of an error in the envelope of the path it answers. */
function bodyFor(url: string, out: HttpError): unknown {
  if (envelopeFor(url) === 'openai') return out.body
  return { type: 'error', error: { type: anthropicErrorType(out.status), message: out.body.error.message } }
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)
}

/** Fastify's own errors, in the catalogue's terms; null for anything it does not know. */
function fromFastify(err: FastifyError, bodyLimit: number): HttpError | null {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return envelope(
        413,
        'body_too_large',
        `request body is larger than the gateway's limit of ${mib(bodyLimit)} MiB; raise server.bodyLimit in the config file to accept it`,
      )
    case 'FST_ERR_VALIDATION': {
      const first = err.validation?.[0]
      const missing = first?.params?.missingProperty
      const path = typeof missing === 'string' ? missing : first?.instancePath.replace(/^\//, '').replace(/\//g, '.')
      return envelope(400, 'invalid_request', err.message, path || null)
    }
  }
  const status = err.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const [code, message] = FASTIFY_4XX[err.code] ??
      BY_STATUS[status] ?? ['bad_request', `the request was refused: ${err.message}`]
    return envelope(ErrorStatus[code], code, message)
  }
  return null
}

/** What Fastify's own refusals mean, phrased as what to fix; their texts would repeat the URL or say little. */
const FASTIFY_4XX: Record<string, [ErrorCode, string]> = {
  FST_ERR_BAD_URL: [
    'bad_request',
    'the request path is not a valid URL: a %-escape is malformed or does not decode to UTF-8 (write a literal % as %25)',
  ],
  FST_ERR_MAX_PARAM_LENGTH: [
    'uri_too_long',
    'a segment of the request path is longer than 100 characters; no route takes one that long',
  ],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [
    'bad_request',
    'the request body is not as long as its content-length header says; send the header that matches the body, or none',
  ],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    'unsupported_media_type',
    "this route does not accept the request's content-type; send application/json (a recipe import takes application/yaml)",
  ],
}

/** Any other 4xx Fastify or a plugin raises, by its status: the catalogue has one code per status. */
const BY_STATUS: Record<number, [ErrorCode, string]> = {
  404: ['not_found', 'no route for this request'],
  408: ['request_timeout', 'the request was not received in time'],
  413: ['body_too_large', 'the request body is too large'],
  415: ['unsupported_media_type', "this route does not accept the request's content-type"],
}

/** The one converter from anything thrown on a request to an HTTP answer. */
function toHttpError(err: unknown, bodyLimit: number): HttpError | null {
  if (err instanceof CortexError) {
    const out = envelope(err.status, err.code, err.message, err.details?.param ?? null)
    const diagnosis = err.details?.diagnosis as Diagnosis | undefined
    if (diagnosis) {
      out.body.error.diagnosis = { cause: diagnosis.cause, exit_code: diagnosis.exitCode, log_tail: diagnosis.logTail }
    }
    const retry = err.details?.retryAfterSeconds
    if (typeof retry === 'number') out.retryAfterSeconds = Math.max(1, Math.ceil(retry))
    out.headers = err.details?.headers as Record<string, string> | undefined
    return out
  }
  if (err instanceof Error) return fromFastify(err as FastifyError, bodyLimit)
  return null
}

/** Refusals an operator wants counted: the key checks' codes, and each rate limit by name. */
const REFUSALS = new Set(['invalid_api_key', 'ip_not_allowed', 'scope_not_allowed', 'model_not_allowed', 'too_many_connections'])

/**
 * A refusal sent before the request's body was read closes the connection: otherwise Node reads and discards the rest
 * to reuse the socket, and a 401 would go on receiving a 60 MB body it never wanted.
 */
function closeIfUnread(req: FastifyRequest, reply: FastifyReply): void {
  if (!req.raw.complete) reply.header('connection', 'close')
}

function refusal(err: unknown): string | null {
  if (!(err instanceof CortexError)) return null
  if (err.code === 'rate_limit_exceeded') return typeof err.details?.limit === 'string' ? err.details.limit : err.code
  return REFUSALS.has(err.code) ? err.code : null
}

/**
 * `onRefused` counts a refused request by its reason (metrics). Also Fastify's `frameworkErrors`: a URL the router
 * cannot decode is refused before any hook runs, so the request id is set here too.
 */
export function errorHandler(bodyLimit: number, onRefused: (reason: string) => void = () => {}) {
  return (err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const reason = refusal(err)
    if (reason !== null) onRefused(reason)
    let out = toHttpError(err, bodyLimit)
    if (out === null) {
      req.log.error({ err }, 'request failed')
      out = envelope(500, 'internal_error', `the gateway failed on this request (id ${req.id}); its log has the details`)
    }
    if (!reply.hasHeader('x-request-id')) reply.header('x-request-id', req.id)
    closeIfUnread(req, reply)
    if (out.retryAfterSeconds !== undefined) reply.header('retry-after', out.retryAfterSeconds)
    if (out.headers !== undefined) reply.headers(out.headers)
    return reply.code(out.status).send(bodyFor(req.url, out))
  }
}

/** No route for this request: Cortex's own 404, which points at /v1. */
export function notFound(req: FastifyRequest): CortexError {
  return new CortexError(
    'not_found',
    `no route for ${req.method} ${req.url.split('?')[0]}; the OpenAI API is under /v1 (GET /v1/models)`,
  )
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply) {
  const out = toHttpError(notFound(req), 0)!
  closeIfUnread(req, reply)
  return reply.code(404).send(bodyFor(req.url, out))
}
