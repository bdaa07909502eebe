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
  if (typeof code === 'string' && NETWORK_ERRORS.has(code)) {
    return new CortexError('upstream_unreachable', `${where} could not be reached: ${(err as Error).message} (${code})`)
  }
  return null
}

/** The part of the client's query string the upstream API defines for this endpoint (`?beta=true`), or ''. */
export function upstreamQuery(search: string, endpoint: Endpoint): string {
  if (search === '' || endpoint.query === undefined) return ''
  const kept = new URLSearchParams()
  for (const [name, value] of new URLSearchParams(search)) {
    if (endpoint.query.has(name) && !CREDENTIAL.test(name)) kept.append(name, value)
  }
  const text = kept.toString()
  return text === '' ? '' : `?${text}`
}

/** POSTs the body to the leased replica. */
export function send(
  options: ProxyOptions,
  ex: Exchange,
  lease: Lease,
  body: Buffer,
  endpoint: Endpoint,
  signal: AbortSignal,
): Promise<Dispatcher.ResponseData> {
  const { target } = lease
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  const { accept } = ex.headers
  if (accept !== undefined) headers.accept = accept
  // The client's Authorization is for Cortex: engines get none, remotes get their own key.
  if (target.apiKey !== undefined) headers.authorization = `Bearer ${target.apiKey}`
  return target.dispatcher.request({
    path: target.apiRoot + endpoint.path + upstreamQuery(ex.search, endpoint),
    method: 'POST',
    headers,
    body,
    signal,
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
  })
}
