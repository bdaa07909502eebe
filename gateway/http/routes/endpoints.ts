import { CortexError } from '../../contract/errors.js'
import type { Scope } from '../../contract/keys.js'
import { anthropic } from '../../proxy/dialects/anthropic.js'
import { openai } from '../../proxy/dialects/openai.js'
import type { Endpoint } from '../../proxy/types.js'

/** The Anthropic SDK's beta client adds `?beta=true`; nothing else of a query string reaches the engine. */
const BETA = new Map([['beta', new Set(['true', 'false'])]])

/** The inference endpoints the gateway knows by path after `/v1`; any other POST is forwarded as OpenAI's. */
const KNOWN: readonly Endpoint[] = [
  { path: '/chat/completions', dialect: openai, requires: 'messages', requestUsage: true },
  { path: '/completions', dialect: openai, requires: 'prompt', requestUsage: true },
  { path: '/embeddings', dialect: openai, requires: 'input', requestUsage: false, generates: false },
  { path: '/responses', dialect: openai, requires: 'input', requestUsage: false },
  { path: '/messages', dialect: anthropic, requires: 'messages', requestUsage: false, query: BETA },
  {
    path: '/messages/count_tokens',
    dialect: anthropic,
    requires: 'messages',
    requestUsage: false,
    generates: false,
    query: BETA,
  },
]
const BY_PATH = new Map(KNOWN.map((e) => [e.path, e]))

/**
 * What a decoded path segment may hold: RFC 3986's `pchar` without `;` (path parameters, which some servers strip) —
 * letters, digits, `-._~:@!$&'()*+,=`. Anything else (an encoded slash, a backslash, `#`, spaces, control bytes,
 * non-ASCII) means something else to some upstream, or cannot be sent unencoded, and no API's path holds it.
 */
const SEGMENT = /^[A-Za-z0-9\-._~:@!$&'()*+,=]+$/

/** Known endpoint paths by their lower-case spelling: `/v1/Embeddings` is refused rather than forwarded as inference. */
const BY_LOWER = new Map(KNOWN.map((e) => [e.path.toLowerCase(), e.path]))

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
 * parameters, backslashes, `#`, control bytes; see SEGMENT) and another case of a known path (`/Embeddings`, which a
 * case-insensitive upstream would serve under the `inference` scope) are refused rather than guessed at.
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
    if (segment === '.' || segment === '..' || !SEGMENT.test(segment)) {
      return new CortexError('not_found', `no route for /v1${raw.slice(3, 203)}: the path has a segment no API defines`)
    }
    segments.push(segment)
  }
  const path = `/${segments.join('/')}`
  const known = BY_LOWER.get(path.toLowerCase())
  if (known !== undefined && known !== path) {
    return new CortexError('not_found', `no route for /v1${raw.slice(3, 203)}: paths are case-sensitive; send /v1${known}`)
  }
  return { path, search }
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
