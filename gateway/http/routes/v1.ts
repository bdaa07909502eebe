import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { authenticate, requireScope, type AccessOptions } from '../../auth/access.js'
import type { ApiKeyRecord } from '../../contract/keys.js'
import type { ModelStatus } from '../../contract/model.js'
import type { RouteDefinition } from '../../contract/routes.js'
import { configuredContext } from '../../router/context.js'
import { proxy } from '../../proxy/forward.js'
import type { Serving } from '../../services/serving.js'
import type { Exchange, ProxyContext } from '../../proxy/types.js'
import { modelAllowed, modelNotFound } from '../../router/route.js'
import { endpointOf, normalizeV1Path, scopeOf, type V1Path } from './endpoints.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's API key (set by the /v1 auth hook below); null for a keyless caller. */
    cortexKey: ApiKeyRecord | null
    /** The request's /v1 path in its one spelling (set by the same hook). */
    cortexPath: V1Path | null
    /** The configured name of the model a request was routed to (for the request log line); null before routing. */
    cortexModel: string | null
  }
}

function modelEntries(s: ModelStatus, created: number) {
  const base = { object: 'model', created, owned_by: 'cortex', state: s.state, context_length: s.contextLength }
  return [{ id: s.name, ...base }, ...s.aliases.map((alias) => ({ id: alias, ...base, alias_of: s.name }))]
}

/** A route lists as a model with the largest context among its targets, and says what it routes to. */
function routeEntries(r: RouteDefinition, ctx: ProxyContext, created: number) {
  const models = [...new Set([...r.targets.map((t) => t.model), ...(r.fallback === null ? [] : [r.fallback])])]
  const contexts = models.flatMap((m) => {
    const def = ctx.registry.resolve(m)
    const context = ctx.registry.contextLength(m) ?? (def === undefined ? null : configuredContext(def))
    return context === null ? [] : [context]
  })
  const base = {
    object: 'model',
    created,
    owned_by: 'cortex',
    route: { targets: models },
    context_length: contexts.length > 0 ? Math.max(...contexts) : null,
  }
  return [{ id: r.name, ...base }, ...r.aliases.map((alias) => ({ id: alias, ...base, alias_of: r.name }))]
}

export interface V1Options extends ProxyContext {
  access: AccessOptions
  /** Refuses inference while the gateway is paused. */
  serving?: Pick<Serving, 'admit'> | undefined
}

/** The proxy's view of a Fastify request. */
function exchange(req: FastifyRequest, reply: FastifyReply, path: V1Path): Exchange {
  return {
    id: req.id,
    headers: req.headers,
    search: path.search,
    // A POST without a body (curl -X POST with no -d) reaches here with none: it is answered as empty JSON.
    body: (req.body as Buffer | undefined) ?? Buffer.alloc(0),
    key: req.cortexKey,
    res: reply.raw,
    log: req.log,
    setHeader: (name, value) => void reply.header(name, value),
    answerHeaders: () => reply.getHeaders(),
    takeOver: () => void reply.hijack(),
    routed: (model) => (req.cortexModel = model),
  }
}

/** The request fields the /v1 hook and the proxy set, on the root app: the request log line reads them for every route. */
export function decorateV1Requests(app: FastifyInstance): void {
  app.decorateRequest('cortexKey', null)
  app.decorateRequest('cortexPath', null)
  app.decorateRequest('cortexModel', null)
}

/** The OpenAI-compatible API, mounted under /v1. Inference bodies stay raw Buffers: proxy/ reads only what routing needs. */
export async function v1Routes(app: FastifyInstance, ctx: V1Options) {
  // Before the body is read: a caller without a valid key must not make the gateway buffer up to bodyLimit. Scope and
  // route both come from the one normalized path, so no spelling of a path gets another scope than the route it reaches.
  app.addHook('onRequest', (req, _reply, done) => {
    try {
      const path = normalizeV1Path(req.url)
      if (path instanceof Error) throw path
      req.cortexPath = path
      req.cortexKey = authenticate(req.headers, req.socket.remoteAddress, ctx.access)
      requireScope(req.cortexKey, scopeOf(req.method, path.path))
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
  const entries = (req: FastifyRequest) => [
    ...ctx.registry
      .statuses()
      .filter((s) => modelAllowed(req.cortexKey, s))
      .flatMap((s) => modelEntries(s, created)),
    ...(ctx.routes?.all() ?? []).filter((r) => modelAllowed(req.cortexKey, r)).flatMap((r) => routeEntries(r, ctx, created)),
  ]
  app.get('/models', async (req) => ({ object: 'list', data: entries(req) }))
  // A wildcard, since names may hold a slash (`Qwen/Qwen2.5-7B-Instruct`).
  app.get('/models/*', async (req) => {
    const id = (req.params as { '*': string })['*']
    const entry = entries(req).find((m) => m.id === id)
    if (entry === undefined) {
      const models = { all: () => ctx.registry.statuses(), routes: () => ctx.routes?.all() ?? [] }
      throw modelNotFound(models, id, req.cortexKey)
    }
    return entry
  })

  // Every POST, whatever its spelling, is dispatched by its normalized path.
  app.post('/*', (req, reply) => {
    const path = req.cortexPath!
    ctx.serving?.admit()
    return proxy(ctx, exchange(req, reply, path), endpointOf(path.path))
  })
}
