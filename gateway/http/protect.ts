import { isIPv4, isIPv6 } from 'node:net'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { CortexError } from '../contract/errors.js'

export interface ProtectOptions {
  /**
   * `server.allowedHosts`: names accepted in `Host` besides IP literals, `localhost` and `*.localhost`. Case and port
   * are ignored; `*.example.com` accepts every name under example.com, `.example.com` those and example.com itself.
   */
  allowedHosts: readonly string[]
  /** `server.cors.origins`: exact origins (`https://app.example:8443`) whose pages may call the API; `*` = any page. */
  corsOrigins: readonly string[]
}

/** Where adminRoutes is mounted (app.ts). */
const ADMIN_PREFIX = '/admin/api'

/** A Host header: a bracketed IPv6 literal or a name / IPv4 literal, then an optional port. Anything else is refused. */
const HOST_HEADER = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9._-]+))(?::\d{1,5})?$/i

/**
 * Request headers a page from a listed origin may send: the keys (OpenAI's Authorization, Anthropic's x-api-key) and
 * what the openai and @anthropic-ai/sdk packages add in a browser; their `x-stainless-*` set grows with each
 * release, so it is matched by prefix.
 */
const REQUEST_HEADERS = new Set([
  'accept',
  'authorization',
  'content-type',
  'x-api-key',
  'x-request-id',
  'user-agent',
  'idempotency-key',
  'openai-organization',
  'openai-project',
  'openai-beta',
  'anthropic-version',
  'anthropic-beta',
  'anthropic-dangerous-direct-browser-access',
])

/** Response headers a page may read besides the safelisted ones: what the SDKs need to retry and back off. */
const EXPOSED_HEADERS = [
  'x-request-id',
  'retry-after',
  // Whether the completion cache answered (hit) or the engine did (miss).
  'x-cortex-cache',
  ...['requests', 'tokens'].flatMap((kind) => ['limit', 'remaining', 'reset'].map((what) => `x-ratelimit-${what}-${kind}`)),
].join(', ')

interface HostRules {
  exact: Set<string>
  /** Suffixes with their leading dot: `.example.com`. */
  under: string[]
}

function hostRules(entries: readonly string[]): HostRules {
  const rules: HostRules = { exact: new Set(), under: [] }
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '')
    if (entry.startsWith('*.')) rules.under.push(entry.slice(1))
    else if (entry.startsWith('.')) {
      rules.exact.add(entry.slice(1))
      rules.under.push(entry)
    } else rules.exact.add(entry)
  }
  return rules
}

/**
 * The DNS-rebinding guard: a page on evil.example whose name is re-pointed to 127.0.0.1 reaches this port with
 * `Host: evil.example`, so only names the owner chose pass. An IP literal cannot be rebound and `*.localhost` never
 * leaves the machine (RFC 6761).
 */
function hostAllowed(header: string | undefined, rules: HostRules): boolean {
  const match = HOST_HEADER.exec(header ?? '')
  if (match === null) return false
  if (match[1] !== undefined) return isIPv6(match[1])
  // A trailing dot is the same name, fully qualified.
  const name = match[2]!.toLowerCase().replace(/\.$/, '')
  if (isIPv4(name) || name === 'localhost' || name.endsWith('.localhost')) return true
  return rules.exact.has(name) || rules.under.some((suffix) => name.endsWith(suffix))
}

function hostRefused(header: string | undefined): CortexError {
  if (header === undefined || header === '') {
    return new CortexError('host_not_allowed', 'the request has no Host header; send the address you reach the gateway at')
  }
  const shown = JSON.stringify(header.length > 100 ? `${header.slice(0, 100)}…` : header)
  return new CortexError(
    'host_not_allowed',
    `the gateway does not answer to the host name in Host: ${shown}; IP addresses, localhost and *.localhost always ` +
      'work — to reach it by this name, add the name to server.allowedHosts in cortex.yaml (a guard against DNS rebinding)',
  )
}

/**
 * Whether a page's origin is the gateway's own (the web UI it serves): same host and port as the request's Host.
 * The scheme is not compared: TLS may end at a reverse proxy in front, and one host:port is one server either way.
 */
export function isOwnOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false
  try {
    const page = new URL(origin)
    if (page.protocol !== 'http:' && page.protocol !== 'https:') return false
    // Parsed the same way, so case, default ports and IPv6 spellings compare equal.
    return new URL(`${page.protocol}//${host}`).host === page.host
  } catch {
    // `null` (sandboxed frames, file: pages) and anything else that is no URL.
    return false
  }
}

/**
 * The route's pattern covers whatever the router normalizes (`/%61dmin/api/models` is routed to the admin API); the
 * decoded path covers requests that match no admin route but still reach the admin API's own 404 handler.
 */
function isAdmin(req: FastifyRequest): boolean {
  if (req.routeOptions.url?.startsWith(ADMIN_PREFIX) === true) return true
  const path = decodedPath(req.url.split('?', 1)[0]!)
  return path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`)
}

function decodedPath(path: string): string {
  try {
    return decodeURIComponent(path)
  } catch {
    // A malformed escape: the router refuses such a path with 400 before any handler runs.
    return path
  }
}

/** The preflight's requested headers that a page may send; the browser refuses the request if any is missing. */
function allowedRequestHeaders(requested: string | string[] | undefined): string {
  const names = String(requested ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
  return names.filter((name) => REQUEST_HEADERS.has(name) || name.startsWith('x-stainless-')).join(', ')
}

/** Headers that say who is asking and whom: Node keeps the first of a repeated one, an upstream proxy may keep the last. */
const SINGLE = new Set(['host', 'authorization', 'x-api-key'])

/** The first of SINGLE that the request sends more than once, or null. */
function repeatedHeader(raw: readonly string[]): string | null {
  let seen = ''
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase()
    if (!SINGLE.has(name)) continue
    if (seen.includes(`|${name}|`)) return name
    seen += `|${name}|`
  }
  return null
}

function duplicateHeader(name: string): CortexError {
  return new CortexError('duplicate_header', `the request has more than one ${name} header; send it once`, { param: name })
}

/**
 * Host check, CORS and the admin API's same-origin rule, for every route including 404s. Registered before the
 * routes with `app.register(protect, …)`: it adds its hook to the root instance, not to a context of its own.
 */
async function protectPlugin(app: FastifyInstance, opts: ProtectOptions) {
  const hosts = hostRules(opts.allowedHosts)
  const origins = new Set(opts.corsOrigins)
  const anyOrigin = origins.has('*')

  app.addHook('onRequest', (req, reply, done) => {
    const repeated = repeatedHeader(req.raw.rawHeaders)
    if (repeated !== null) return done(duplicateHeader(repeated))
    const host = req.headers.host
    if (!hostAllowed(host, hosts)) return done(hostRefused(host))
    // Whether the CORS headers are there depends on Origin: a cache must not hand one page's answer to another.
    if (origins.size > 0) reply.header('vary', 'Origin')
    const origin = req.headers.origin
    // No Origin: not a browser's cross-origin request (CLI, SDKs in Node, curl); own origin: the served web UI.
    if (origin === undefined || isOwnOrigin(origin, host)) return done()
    if (isAdmin(req)) {
      return done(
        new CortexError(
          'origin_not_allowed',
          `the admin API refuses requests from web pages of other origins (Origin: ${origin}), whatever ` +
            'server.cors.origins says; use the web UI this gateway serves, or a client that sends no Origin (CLI, scripts)',
        ),
      )
    }
    // Refused outright rather than answered without CORS headers: the browser would hide the answer, but a form or a
    // text/plain POST would still run a generation for any site on a keyless loopback gateway.
    if (!anyOrigin && !origins.has(origin)) {
      return done(
        new CortexError(
          'origin_not_allowed',
          `web pages from ${origin} may not call this gateway; add "${origin}" to server.cors.origins in cortex.yaml to allow them`,
        ),
      )
    }
    // Streamed answers carry these too: the proxy hijacks the reply but starts its head from reply.getHeaders().
    reply.header('access-control-allow-origin', anyOrigin ? '*' : origin)
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      reply.header('vary', 'Origin, Access-Control-Request-Headers')
      reply.header('access-control-allow-methods', 'GET, POST')
      const headers = allowedRequestHeaders(req.headers['access-control-request-headers'])
      if (headers !== '') reply.header('access-control-allow-headers', headers)
      // Browsers otherwise ask again before every request (Chrome's default is 5 s, its cap 2 h).
      reply.header('access-control-max-age', '600')
      void reply.code(204).send()
      return
    }
    reply.header('access-control-expose-headers', EXPOSED_HEADERS)
    done()
  })
}

/**
 * Fastify's documented 'skip-override' flag (what fastify-plugin sets) puts the hook on the instance that registers
 * the plugin, so it guards every route registered after it, in every context.
 */
export const protect = Object.assign(protectPlugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'cortex-protect',
})

/** The Host check alone, for the keyless metrics port (metrics/server.ts), which is no part of this app. */
export function hostCheck(allowedHosts: readonly string[]): (header: string | undefined) => boolean {
  const rules = hostRules(allowedHosts)
  return (header) => hostAllowed(header, rules)
}
