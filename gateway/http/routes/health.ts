import type { FastifyInstance } from 'fastify'
import type { ModelRegistry } from '../../engines/types.js'

export interface HealthOptions {
  registry: ModelRegistry
}

/**
 * Liveness (`/health`: the process answers) and readiness (`/readyz`: each model's and replica's state). The core is
 * whole (database open, leftovers reaped, containers adopted, limiter connected) before it listens, so a process
 * that answers is ready.
 */
export async function healthRoutes(app: FastifyInstance, opts: HealthOptions) {
  app.get('/health', async () => ({ status: 'ok' }))
  app.get('/readyz', async () => {
    const models = opts.registry
      .statuses()
      .map((s) => ({ name: s.name, state: s.state, replicas: s.replicas.map((r) => r.state) }))
    return { status: 'ready', models }
  })
}
