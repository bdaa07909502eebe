import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { CortexError } from '../contract/errors.js'
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

function envelope(status: number, code: string, message: string, param: string | null = null): HttpError {
  const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message
  const shownParam = param !== null && param.length > 256 ? `${param.slice(0, 256)}…` : param
  const type = status >= 500 ? 'server_error' : 'invalid_request_error'
  return { status, body: { error: { message: text, type, param: shownParam, code } } }
}

/** Anthropic's error types by status (docs.anthropic.com "Errors"). */
function anthropicType(status: number): string {
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

/** `/v1/messages` and its sub-paths speak Anthropic's API: its SDKs parse only its envelope. */
const MESSAGES = /^\/v1\/+messages(?:[/?]|$)/

/** The body of an error in the dialect of the path it answers: Anthropic's on /v1/messages, OpenAI's elsewhere. */
function bodyFor(url: string, out: HttpError): unknown {
  if (!MESSAGES.test(url)) return out.body
  return { type: 'error', error: { type: anthropicType(out.status), message: out.body.error.message } }
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
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return envelope(400, 'invalid_json', `request body is not valid JSON: ${err.message}`)
    case 'FST_ERR_VALIDATION': {
      const first = err.validation?.[0]
      const missing = first?.params?.missingProperty
      const path = typeof missing === 'string' ? missing : first?.instancePath.replace(/^\//, '').replace(/\//g, '.')
      return envelope(400, 'invalid_request', err.message, path || null)
    }
  }
  // Fastify's default JSON parser (non-inference routes) throws a SyntaxError with statusCode 400.
  if (err instanceof SyntaxError && err.statusCode === 400)
    return envelope(400, 'invalid_json', `request body is not valid JSON: ${err.message}`)
  const status = err.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) return envelope(status, 'invalid_request', err.message)
  return null
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
const REFUSALS = new Set(['invalid_api_key', 'ip_not_allowed', 'scope_not_allowed', 'model_not_allowed'])

function refusal(err: unknown): string | null {
  if (!(err instanceof CortexError)) return null
  if (err.code === 'rate_limit_exceeded') return typeof err.details?.limit === 'string' ? err.details.limit : err.code
  return REFUSALS.has(err.code) ? err.code : null
}

/** `onRefused` counts a refused request by its reason (metrics). */
export function errorHandler(bodyLimit: number, onRefused: (reason: string) => void = () => {}) {
  return (err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const reason = refusal(err)
    if (reason !== null) onRefused(reason)
    let out = toHttpError(err, bodyLimit)
    if (out === null) {
      req.log.error({ err }, 'request failed')
      out = envelope(500, 'internal_error', `the gateway failed on this request (id ${req.id}); its log has the details`)
    }
    if (out.retryAfterSeconds !== undefined) reply.header('retry-after', out.retryAfterSeconds)
    if (out.headers !== undefined) reply.headers(out.headers)
    return reply.code(out.status).send(bodyFor(req.url, out))
  }
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply) {
  const out = envelope(
    404,
    'not_found',
    `no route for ${req.method} ${req.url.split('?')[0]}; the OpenAI API is under /v1 (GET /v1/models)`,
  )
  return reply.code(404).send(bodyFor(req.url, out))
}
