import { CortexError } from '../../contract/errors.js'
import type { Scope } from '../../contract/keys.js'
import { anthropic } from '../../proxy/dialects/anthropic.js'
import { openai } from '../../proxy/dialects/openai.js'
import type { Endpoint } from '../../proxy/types.js'

/** The inference endpoints the gateway knows by path after `/v1`; any other POST is forwarded as OpenAI's. */
const KNOWN: readonly Endpoint[] = [
  { path: '/chat/completions', dialect: openai, requires: 'messages', requestUsage: true },
  { path: '/completions', dialect: openai, requires: 'prompt', requestUsage: true },
  { path: '/embeddings', dialect: openai, requires: 'input', requestUsage: false },
  { path: '/responses', dialect: openai, requires: 'input', requestUsage: false },
  // The Anthropic SDK's beta client adds `?beta=true`.
  { path: '/messages', dialect: anthropic, requires: 'messages', requestUsage: false, query: new Set(['beta']) },
  { path: '/messages/count_tokens', dialect: anthropic, requires: 'messages', requestUsage: false, query: new Set(['beta']) },
]
const BY_PATH = new Map(KNOWN.map((e) => [e.path, e]))

/** Characters that mean something else to some upstream: an encoded slash, backslash, `;` parameters, control bytes. */
function unsafe(segment: string): boolean {
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i)
    if (c < 0x20 || c === 0x7f || c === 0x2f || c === 0x5c || c === 0x3b) return true
  }
  return false
}

/** A request's path after `/v1`, decoded and in one spelling, and its query string as sent. */
export interface V1Path {
  /** `/chat/completions`: decoded, no empty segments, no trailing slash. */
  path: string
  /** `?…` or ''. */
  search: string
}

/**
 * The one spelling of a /v1 path that scope, route and upstream all use: `/v1/%65mbeddings/` and `/v1//embeddings`
 * are `/embeddings`. Segments that could change what an upstream serves (`..`, `.`, an encoded slash, `;` path
 * parameters, backslashes, control bytes) are refused rather than guessed at: no API defines them.
 */
export function normalizeV1Path(url: string): V1Path | CortexError {
  const q = url.indexOf('?')
  const raw = q < 0 ? url : url.slice(0, q)
  const search = q < 0 ? '' : url.slice(q)
  const segments: string[] = []
  for (const part of raw.slice('/v1'.length).split('/')) {
    if (part === '') continue
    let segment: string
    try {
      segment = decodeURIComponent(part)
    } catch {
      return new CortexError('invalid_request', 'the path has a malformed %-escape', { param: 'path' })
    }
    if (segment === '.' || segment === '..' || unsafe(segment)) {
      return new CortexError('not_found', `no route for /v1${raw.slice(3, 203)}: the path has a segment no API defines`)
    }
    segments.push(segment)
  }
  return { path: `/${segments.join('/')}`, search }
}

/** The endpoint a normalized path names; any other path is forwarded as the OpenAI dialect, without usage tricks. */
export function endpointOf(path: string): Endpoint {
  return BY_PATH.get(path) ?? { path, dialect: openai, requestUsage: false }
}

const LISTING: readonly Scope[] = ['inference', 'embeddings']

/** The scope a /v1 request needs: `embeddings` for embeddings, either for the model list, `inference` for the rest. */
export function scopeOf(method: string, path: string): Scope | readonly Scope[] {
  if ((method === 'GET' || method === 'HEAD') && (path === '/models' || path.startsWith('/models/'))) return LISTING
  return method === 'POST' && path === '/embeddings' ? 'embeddings' : 'inference'
}
