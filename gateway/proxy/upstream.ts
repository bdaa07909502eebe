import type { Dispatcher } from 'undici'
import { CortexError } from '../contract/errors.js'
import type { Lease } from '../engines/types.js'
import type { Endpoint, Exchange, ProxyOptions } from './types.js'

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

/** Query parameters that carry credentials: never forwarded, whatever the endpoint defines. */
const CREDENTIAL = /key|token|secret|auth|password|signature/i

/** An undici failure in the catalogue's terms; null when the upstream is not to blame. */
export function upstreamError(err: unknown, lease: Lease): CortexError | null {
  const code = (err as { code?: unknown }).code
  const where = `model "${lease.target.model}" (replica ${lease.target.replica})`
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new CortexError('upstream_timeout', `${where} stopped answering (${code}); check the engine's log`)
  }
  // A connection that is not kept alive and closes inside a chunked answer is reported by the parser, not the socket.
  if ((typeof code === 'string' && NETWORK_ERRORS.has(code)) || (err as Error).name === 'HTTPParserError') {
    return new CortexError(
      'upstream_unreachable',
      `${where} could not be reached: ${(err as Error).message} (${String(code ?? (err as Error).name)})`,
    )
  }
  return null
}

/** The part of the client's query string the upstream API defines for this endpoint (`?beta=true`), or ''. */
export function upstreamQuery(search: string, endpoint: Endpoint): string {
  if (search === '' || endpoint.query === undefined) return ''
  const kept = new URLSearchParams()
  for (const [name, value] of new URLSearchParams(search)) {
    // Once each: an upstream that reads the last of a repeated parameter must see what was checked.
    if (endpoint.query.get(name)?.has(value) && !CREDENTIAL.test(name) && !kept.has(name)) kept.append(name, value)
  }
  const text = kept.toString()
  return text === '' ? '' : `?${text}`
}

/**
 * Whether a request failed on a kept-alive socket that the engine had closed, before any byte of its answer: the
 * socket had carried an earlier answer (bytes read) and the error is the close itself. Such a request never reached
 * the engine's handler, so sending it again is safe; a failure after a byte of the answer never is retried.
 */
function closedBeforeAnswer(err: unknown): boolean {
  const e = err as { code?: unknown; socket?: { bytesRead?: number } }
  return e.code === 'UND_ERR_SOCKET' && (e.socket?.bytesRead ?? 0) > 0
}

/**
 * POSTs the body to the leased replica. A streamed answer's socket is not kept: llama-server half-closes it after
 * every stream although it said keep-alive, and a request sent on it in the moment before the close arrives fails
 * with "other side closed". What still races (any engine's keep-alive timeout) is retried once on a fresh connection.
 */
export async function send(
  options: ProxyOptions,
  ex: Exchange,
  lease: Lease,
  body: Buffer,
  endpoint: Endpoint,
  signal: AbortSignal,
  stream: boolean,
): Promise<Dispatcher.ResponseData> {
  const { target } = lease
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  const { accept } = ex.headers
  if (accept !== undefined) headers.accept = accept
  // The client's Authorization is for Cortex: engines get none, remotes get their own key.
  if (target.apiKey !== undefined) headers.authorization = `Bearer ${target.apiKey}`
  const request: Dispatcher.RequestOptions = {
    path: target.apiRoot + endpoint.path + upstreamQuery(ex.search, endpoint),
    method: 'POST',
    headers,
    body,
    signal,
    reset: stream,
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
  }
  try {
    return await target.dispatcher.request(request)
  } catch (err) {
    if (signal.aborted || !closedBeforeAnswer(err)) throw err
    // `reset` here too: the retry must not land on another socket of the same pool that is closing as well.
    return target.dispatcher.request({ ...request, reset: true })
  }
}
