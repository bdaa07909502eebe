import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import { adminAuth } from '../admin/auth.js'
import { withEngineSeries } from '../../metrics/engines.js'

export interface MetricsRouteOptions {
  registry: Registry
  /** The admin token (store/admin-token.ts). */
  token: string
  /** The engines' own series, relabelled and merged (engines.ts `scrapeEngines`), written after the registry's. */
  engines?: () => Promise<string>
}

/**
 * `GET /metrics` on the gateway's own port. The series name every model, its traffic and the GPUs, so they take the
 * admin token here; `metrics.port` serves them keyless on 127.0.0.1 instead (server.ts). Register it as a plugin:
 * the token hook then covers this route only.
 */
export async function metricsRoute(app: FastifyInstance, opts: MetricsRouteOptions) {
  app.addHook('onRequest', adminAuth({ token: opts.token }))
  app.get('/metrics', async (_req, reply) => {
    const text = await withEngineSeries(opts.registry, opts.engines)
    return reply.type(opts.registry.contentType).send(text)
  })
}
