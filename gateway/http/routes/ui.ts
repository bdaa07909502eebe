import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/**
 * The console's own headers: scripts and styles only from this gateway (no inline script, so an injected tag cannot
 * run), never framed, no referrer to leak a sign-in code to a linked page.
 */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
}

/** Paths that are never a console page: their unknown routes keep the JSON 404 (a client whose base URL lacks /v1). */
const API_PREFIXES = ['/v1', '/admin/api', '/metrics', '/health', '/readyz', '/assets']

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Cortex</title></head><body>
<h1>The Cortex console is not built</h1><p>Run <code>npm run build:console</code> (or <code>npm ci</code>, which builds it)
and reload. The OpenAI API is at <code>/v1</code> either way.</p></body></html>`

/** `dist/renderer` of this package, from source (tsx, vitest) or from dist/. */
export function defaultConsoleDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir)
    if (up === dir) break
    dir = up
  }
  return path.join(dir, 'dist', 'renderer')
}

const isApiPath = (url: string) => {
  const p = url.split('?', 1)[0]!
  return API_PREFIXES.some((prefix) => p === prefix || p.startsWith(`${prefix}/`))
}

/**
 * Serves the built console: hashed files under /assets cached for good, index.html never cached, and index.html for
 * any other GET or HEAD that asks for a page (the console's client-side routes). Returns the fallback for the
 * app's not-found handler; false means "not the console's": answer the JSON 404.
 */
export function consoleRoutes(app: FastifyInstance, dir: string): (req: FastifyRequest, reply: FastifyReply) => boolean {
  const indexFile = path.join(dir, 'index.html')
  const built = existsSync(indexFile)
  // Read once: it is small, and a rebuild while Cortex runs changes the hashed names it points at anyway.
  const index = built ? readFileSync(indexFile) : Buffer.from(NOT_BUILT)
  const sendIndex = (reply: FastifyReply) =>
    reply.headers(CONSOLE_HEADERS).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(index)

  if (built) {
    app.register(fastifyStatic, {
      root: path.join(dir, 'assets'),
      prefix: '/assets/',
      index: false,
      // One route per file found now, so an unknown /assets/x is a 404 rather than a read attempt.
      wildcard: false,
      // Vite names every asset by a hash of its content: a changed file is a new name.
      maxAge: '365d',
      immutable: true,
      setHeaders(res) {
        for (const [name, value] of Object.entries(CONSOLE_HEADERS)) res.setHeader(name, value)
      },
    })
  }
  app.get('/', (_req, reply) => sendIndex(reply))
  return (req, reply) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false
    if (isApiPath(req.url) || !(req.headers.accept ?? '').includes('text/html')) return false
    void sendIndex(reply.code(200))
    return true
  }
}
