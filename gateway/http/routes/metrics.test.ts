import Fastify from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { errorHandler } from '../errors.js'
import { parseExposition, valueOf } from '../../metrics/exposition.test-support.js'
import { FakeEngines, FakeSystem, modelStatus } from '../../metrics/fakes.test-support.js'
import { usageRecord } from '../../engines/usage.test-support.js'
import { createMetrics, type Metrics } from '../../metrics/registry.js'
import { metricsRoute } from './metrics.js'

const TOKEN = 'ctx_admin_metrics_test'
const opened: Metrics[] = []
afterEach(() => {
  for (const m of opened.splice(0)) m.close()
})

/** A bare app with the gateway's error handler, the metrics plugin and one route outside it. */
function setup(engineSeries?: () => Promise<string>) {
  const engines = new FakeEngines()
  engines.models = [modelStatus('tiny', 'running')]
  const metrics = createMetrics({ engines, system: new FakeSystem() })
  opened.push(metrics)
  const app = Fastify()
  app.setErrorHandler(errorHandler(1024))
  app.register(metricsRoute, { registry: metrics.registry, token: TOKEN, engines: engineSeries })
  app.get('/health', async () => ({ status: 'ok' }))
  return { app, metrics }
}

describe('GET /metrics on the main port', () => {
  it.each([
    ['no Authorization header', {}],
    ['a wrong token', { authorization: 'Bearer ctx_admin_wrong' }],
    ['an API key-style header', { 'x-api-key': TOKEN }],
  ])('answers %s with 401 invalid_api_key', async (_name, headers) => {
    const { app } = setup()
    const res = await app.inject({ url: '/metrics', headers })
    expect(res.statusCode).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="cortex admin"')
    expect(res.json().error).toMatchObject({ code: 'invalid_api_key', type: 'invalid_request_error', param: null })
    expect(res.body).not.toMatch(/cortex_/)
  })

  it('answers the admin token with the registry’s text exposition', async () => {
    const { app, metrics } = setup()
    metrics.observe(usageRecord({ status: 200 }))
    const res = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe(metrics.registry.contentType)
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    const s = parseExposition(res.body)
    expect(valueOf(s, 'cortex_requests_total', { model: 'tiny', endpoint: '/v1/chat/completions', status: '200' })).toBe(1)
    expect(valueOf(s, 'cortex_engine_state', { model: 'tiny', state: 'running' })).toBe(1)
  })

  it('writes the engines’ series after the registry’s, behind the same token', async () => {
    const engineSeries = async () =>
      '# TYPE llamacpp:requests_processing gauge\nllamacpp:requests_processing{model="tiny",replica="0"} 2\n'
    const { app } = setup(engineSeries)
    expect((await app.inject('/metrics')).body).not.toMatch(/llamacpp/)
    const res = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
    expect(res.statusCode).toBe(200)
    expect(res.body).toMatch(/\ncortex_engine_state\{model="tiny",state="running"\} 1\n/)
    expect(res.body.endsWith(`\n${await engineSeries()}`)).toBe(true)
    expect(valueOf(parseExposition(res.body), 'llamacpp:requests_processing', { model: 'tiny', replica: '0' })).toBe(2)
  })

  it('asks for the token on /metrics only, not on the app’s other routes', async () => {
    const { app } = setup()
    expect((await app.inject('/health')).statusCode).toBe(200)
  })
})
