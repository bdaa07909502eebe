import type { FastifyInstance } from 'fastify'
import type { ModelRegistry } from '../../engines/types.js'

export interface HealthOptions {
  registry: ModelRegistry
  isReady: () => boolean
}

/** Liveness (`/health`: the process answers) and readiness (`/readyz`: the database is open; each model's and replica's state). */
export async function healthRoutes(app: FastifyInstance, opts: HealthOptions) {
  app.get('/health', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_req, reply) => {
    if (!opts.isReady()) return reply.code(503).send({ status: 'not_ready' })
    const models = opts.registry
      .statuses()
      .map((s) => ({ name: s.name, state: s.state, replicas: s.replicas.map((r) => r.state) }))
    return { status: 'ready', models }
  })
}
