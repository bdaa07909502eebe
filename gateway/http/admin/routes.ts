import Type from 'typebox'
import { RouteConfig, RoutePatchBody } from '../../contract/routes.js'
import type { RouteService } from '../../services/routes.js'
import type { AdminApp } from './index.js'

const Params = Type.Object({ id: Type.String({ minLength: 1 }) })

/** `/routes…`: virtual models. Those of the config file are listed and read-only (409), as config models are. */
export function routeRoutes(app: AdminApp, routes: RouteService): void {
  app.get('/routes', async () => ({ data: routes.list() }))
  app.post('/routes', { schema: { body: RouteConfig } }, async (req, reply) => reply.code(201).send(routes.create(req.body)))
  app.get('/routes/:id', { schema: { params: Params } }, async (req) => routes.get(req.params.id))
  app.patch('/routes/:id', { schema: { params: Params, body: RoutePatchBody } }, async (req) =>
    routes.update(req.params.id, req.body),
  )
  app.delete('/routes/:id', { schema: { params: Params } }, async (req, reply) => {
    routes.remove(req.params.id)
    return reply.code(204).send()
  })
}
