import type { FastifyInstance, FastifyRequest } from 'fastify'
import { authenticate, modelAllowed, requireScope, type AccessOptions } from '../../auth/access.js'
import type { Scope } from '../../contract/keys.js'
import type { ModelStatus } from '../../contract/model.js'
import { CortexError } from '../../contract/errors.js'
import { modelNotFound, proxy, type Endpoint, type ProxyContext } from '../../proxy/forward.js'

const CHAT: Endpoint = { path: '/chat/completions', requires: 'messages', requestUsage: true }
const COMPLETIONS: Endpoint = { path: '/completions', requires: 'prompt', requestUsage: true }
const EMBEDDINGS: Endpoint = { path: '/embeddings', requestUsage: false, requires: 'input' }

/** `..` or an encoded dot could walk out of the API root on an upstream (and take a remote's key along). */
const UNSAFE_PATH = /\.\.|%2e/i

function modelEntries(s: ModelStatus, created: number) {
  const base = { object: 'model', created, owned_by: 'cortex', state: s.state, context_length: s.contextLength }
  return [{ id: s.name, ...base }, ...s.aliases.map((alias) => ({ id: alias, ...base, alias_of: s.name }))]
}

export interface V1Options extends ProxyContext {
  access: AccessOptions
}

const LISTING: readonly Scope[] = ['inference', 'embeddings']

/**
 * The scope a /v1 request needs, from the route it matched (the router decodes `%65mbeddings`; the raw URL would not
 * tell): `embeddings` for embeddings, `inference` for every other forwarded path, either for the model list.
 */
function scopeOf(req: FastifyRequest): Scope | readonly Scope[] {
  const route = req.routeOptions.url
  if (route === '/v1/models' || route === '/v1/models/*') return LISTING
  return route === '/v1/embeddings' ? 'embeddings' : 'inference'
}

/** The OpenAI-compatible API, mounted under /v1. Inference bodies stay raw Buffers: proxy/ reads only what routing needs. */
export async function v1Routes(app: FastifyInstance, ctx: V1Options) {
  // Before the body is read: a caller without a valid key must not make the gateway buffer up to bodyLimit.
  app.addHook('onRequest', (req, _reply, done) => {
    try {
      req.cortexKey = authenticate(req.headers, req.socket.remoteAddress, ctx.access)
      requireScope(req.cortexKey, scopeOf(req))
      done()
    } catch (err) {
      done(err as Error)
    }
  })

  // Any content type: curl -d sends form-urlencoded, and engines receive application/json whatever the client said.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))

  // `created` is unknown for local models; the gateway's start time keeps it a stable integer, as OpenAI clients expect.
  const created = Math.floor(Date.now() / 1000)
  const entries = (req: FastifyRequest) =>
    ctx.registry
      .statuses()
      .filter((s) => modelAllowed(req.cortexKey, s))
      .flatMap((s) => modelEntries(s, created))
  app.get('/models', async (req) => ({ object: 'list', data: entries(req) }))
  // A wildcard, since names may hold a slash (`Qwen/Qwen2.5-7B-Instruct`).
  app.get('/models/*', async (req) => {
    const id = (req.params as { '*': string })['*']
    const entry = entries(req).find((m) => m.id === id)
    if (entry === undefined) throw modelNotFound(ctx.registry, id, req.cortexKey)
    return entry
  })

  app.post('/chat/completions', (req, reply) => proxy(ctx, req, reply, CHAT))
  app.post('/completions', (req, reply) => proxy(ctx, req, reply, COMPLETIONS))
  app.post('/embeddings', (req, reply) => proxy(ctx, req, reply, EMBEDDINGS))
  app.post('/*', (req, reply) => {
    const path = req.url.slice('/v1'.length).split('?')[0]!
    if (UNSAFE_PATH.test(path)) throw new CortexError('not_found', `no route for POST /v1${path}`)
    return proxy(ctx, req, reply, { path, requestUsage: false })
  })
}
