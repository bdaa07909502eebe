import type { FastifyRequest } from 'fastify'
import Type from 'typebox'
import { modelAllowed } from '../../router/route.js'
import { CortexError } from '../../contract/errors.js'
import { ModelPatchBody, type ModelStateView, type ModelView } from '../../contract/index.js'
import type { ModelService } from '../../services/models.js'
import type { RecipeService } from '../../services/recipes.js'
import type { AdminApp } from './index.js'
import { createModel } from './recipes.js'
import type { SseStreams } from './sse.js'

const Params = Type.Object({ id: Type.String({ minLength: 1 }) })
const StartQuery = Type.Object({ wait: Type.Optional(Type.Boolean()) })
const LogsQuery = Type.Object({ follow: Type.Optional(Type.Boolean()) })

/** `/models…`: definitions, lifecycle and logs. Ids are the opaque ids the service assigns. */
export function modelRoutes(app: AdminApp, models: ModelService, streams: SseStreams, recipes: RecipeService): void {
  app.get('/models', async (req) => ({ data: models.list().flatMap((m) => shown(req, m) ?? []) }))
  // A config-file entry or `{ recipe, overrides }`: createModel checks the body against the schema of the one it is.
  app.post('/models', async (req, reply) => reply.code(201).send(await createModel(req.body, models, recipes)))
  app.get('/models/:id', { schema: { params: Params } }, async (req) => {
    const model = shown(req, models.get(req.params.id))
    if (model === null) throw new CortexError('not_found', `no model with id "${req.params.id}"`)
    return model
  })
  // The schema is built from ModelConfig's properties at run time, so its static type is loose: it is ModelPatchBody.
  app.patch('/models/:id', { schema: { params: Params, body: ModelPatchBody } }, async (req) =>
    models.update(req.params.id, req.body as ModelPatchBody),
  )
  app.delete('/models/:id', { schema: { params: Params } }, async (req, reply) => {
    await models.remove(req.params.id)
    return reply.code(204).send()
  })

  // Without `wait` the start goes on after the answer: 202, and its progress is on /events.
  app.post('/models/:id/start', { schema: { params: Params, querystring: StartQuery } }, async (req, reply) => {
    const wait = req.query.wait === true
    const view = await models.start(req.params.id, { wait })
    return reply.code(wait ? 200 : 202).send(view)
  })
  app.post('/models/:id/stop', { schema: { params: Params } }, async (req) => models.stop(req.params.id))
  app.post('/models/:id/switch', { schema: { params: Params } }, async (req, reply) =>
    reply.code(202).send(await models.switch(req.params.id)),
  )
  app.post('/models/:id/pin', { schema: { params: Params } }, async (req) => models.setPinned(req.params.id, true))
  app.post('/models/:id/unpin', { schema: { params: Params } }, async (req) => models.setPinned(req.params.id, false))
  app.post('/models/:id/dry-run', { schema: { params: Params } }, async (req) => models.dryRun(req.params.id))

  // A HEAD would open a stream with no body that never ends.
  app.get('/models/:id/logs', { schema: { params: Params, querystring: LogsQuery }, exposeHeadRoute: false }, (req, reply) => {
    // Read before the stream opens, so an unknown id is still a 404 envelope.
    const lines = models.logs(req.params.id)
    if (req.query.follow !== true) return reply.send({ lines })
    const stream = streams.start(reply)
    for (const line of lines) stream.data(line)
    // Same tick as logs(): no line can fall between the tail and the subscription.
    stream.onClose(models.followLogs(req.params.id, (line) => stream.data(line)))
  })
}

/**
 * The admin token sees every model whole. An `admin:read` key sees the models it may use, a member's session every
 * model, and of them only names and states: a definition's env, args and paths, and an engine's log lines, may hold
 * what a tenant must not read.
 */
function shown(req: FastifyRequest, model: ModelView): ModelView | ModelStateView | null {
  const caller = req.adminCaller
  if (caller.kind === 'admin') return model
  if (caller.kind === 'key' && !modelAllowed(caller.key, model)) return null
  return stateView(model)
}

/** A model's name and live state, nothing of its definition. */
export function stateView(model: ModelView): ModelStateView {
  const { status } = model
  return {
    id: model.id,
    name: model.name,
    aliases: model.aliases,
    engine: model.engine,
    runtime: model.runtime,
    status: {
      state: status.state,
      replicas: status.replicas.map(({ index, state, inFlight }) => ({ index, state, inFlight })),
      queued: status.queued,
      contextLength: status.contextLength,
      lastUsedAt: status.lastUsedAt,
    },
  }
}
