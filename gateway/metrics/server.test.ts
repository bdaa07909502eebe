import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { memoryLogger } from '../http/fakes.test-support.js'
import { parseExposition, valueOf } from './exposition.test-support.js'
import { FakeEngines, FakeSystem, modelStatus } from './fakes.test-support.js'
import { createMetrics } from './registry.js'
import { startMetricsServer, type MetricsServer } from './server.js'

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** Stands in for protect.ts's check: loopback by address only. */
const loopbackOnly = (header: string | undefined) => header?.startsWith('127.0.0.1:') ?? false

async function setup(system = new FakeSystem(), engineSeries?: () => Promise<string>) {
  const engines = new FakeEngines()
  engines.models = [modelStatus('tiny', 'running')]
  const metrics = createMetrics({ engines, system })
  cleanup.push(() => metrics.close())
  const { logger, lines } = memoryLogger()
  const server = await startMetricsServer({
    registry: metrics.registry,
    engines: engineSeries,
    port: 0,
    hostAllowed: loopbackOnly,
    logger,
  })
  cleanup.push(() => server.close())
  return { metrics, server, lines }
}

/** node:http rather than fetch, so the test can send any Host header. */
function get(server: MetricsServer, path: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method, headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('startMetricsServer (metrics.port)', () => {
  it('listens on 127.0.0.1 and serves /metrics without any key', async () => {
    const { server, metrics } = await setup()
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const res = await get(server, '/metrics?x=1')
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe(metrics.registry.contentType)
    expect(valueOf(parseExposition(res.body), 'cortex_engine_state', { model: 'tiny', state: 'running' })).toBe(1)
  })

  it('writes the engines’ series after the registry’s', async () => {
    const engineSeries = async () =>
      '# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model="qwen",replica="0"} 1.0\n'
    const { server } = await setup(new FakeSystem(), engineSeries)
    const res = await get(server, '/metrics')
    expect(res.status).toBe(200)
    expect(res.body.endsWith(`\n${await engineSeries()}`)).toBe(true)
    const s = parseExposition(res.body)
    expect(valueOf(s, 'cortex_engine_state', { model: 'tiny', state: 'running' })).toBe(1)
    expect(valueOf(s, 'vllm:num_requests_running', { model: 'qwen', replica: '0' })).toBe(1)
  })

  it('answers HEAD with the headers only', async () => {
    const { server } = await setup()
    const res = await get(server, '/metrics', {}, 'HEAD')
    expect(res.status).toBe(200)
    expect(res.body).toBe('')
  })

  it.each([
    ['another path', 'GET', '/v1/models'],
    ['another method', 'POST', '/metrics'],
  ])('answers %s with 404 not_found', async (_name, method, path) => {
    const { server } = await setup()
    const res = await get(server, path, {}, method)
    expect(res.status).toBe(404)
    expect(JSON.parse(res.body).error).toMatchObject({ code: 'not_found', type: 'invalid_request_error' })
  })

  it('refuses a Host the gateway’s Host check refuses (DNS rebinding), before collecting anything', async () => {
    const system = new FakeSystem()
    let collected = 0
    system.latest = () => (collected++, FakeSystem.prototype.latest.call(system))
    const { server } = await setup(system)
    const port = new URL(server.url).port
    for (const host of [`evil.example:${port}`, `localhost.evil.example:${port}`]) {
      const refused = await get(server, '/metrics', { host })
      expect(refused.status, host).toBe(403)
      expect(JSON.parse(refused.body).error).toMatchObject({ code: 'host_not_allowed', type: 'invalid_request_error' })
    }
    expect(collected).toBe(0)
  })

  it('answers 500 and logs why when collecting fails', async () => {
    const system = new FakeSystem()
    system.latest = () => Promise.reject(new Error('nvidia-smi hung'))
    const { server, lines } = await setup(system)
    const res = await get(server, '/metrics')
    expect(res.status).toBe(500)
    expect(JSON.parse(res.body).error).toMatchObject({ code: 'internal_error', type: 'server_error' })
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'collecting metrics failed', err: expect.objectContaining({ message: 'nvidia-smi hung' }) }),
    )
  })

  it('answers 500 and logs why when reading the engines’ series fails', async () => {
    const { server, lines } = await setup(new FakeSystem(), () => Promise.reject(new Error('engine scrape broke')))
    const res = await get(server, '/metrics')
    expect(res.status).toBe(500)
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'collecting metrics failed',
        err: expect.objectContaining({ message: 'engine scrape broke' }),
      }),
    )
  })

  it('says which port is taken when metrics.port is in use', async () => {
    const { server } = await setup()
    const port = Number(new URL(server.url).port)
    const other = createMetrics({ engines: new FakeEngines(), system: new FakeSystem() })
    cleanup.push(() => other.close())
    const again = startMetricsServer({ registry: other.registry, port, hostAllowed: loopbackOnly, logger: memoryLogger().logger })
    await expect(again).rejects.toThrow(`metrics.port ${port} on 127.0.0.1 is already in use`)
  })
})
