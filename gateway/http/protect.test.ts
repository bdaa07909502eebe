import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { connect } from 'node:net'
import { Client } from 'undici'
import { modelDefinition } from '../contract/model.test-support.js'
import { FakeModelService, auth, fakeAdmin } from './admin/fakes.test-support.js'
import { buildApp } from './app.js'
import { FakeRegistry, MemoryUsage, MockUpstream, json, memoryLogger, noKeys, testConfig } from './fakes.test-support.js'
import { modelView } from '../contract/admin.test-support.js'

const upstream = new MockUpstream()
let models: FakeModelService

beforeAll(async () => {
  await upstream.start()
})
afterAll(() => upstream.close())

beforeEach(() => {
  upstream.received.length = 0
  upstream.handler = (_req, res) => json(res, 200, { id: 'x', choices: [] })
  models = new FakeModelService([modelView({ id: 'id-api', name: 'api', origin: 'api' })])
})

/** The whole gateway, admin API included, with these protections configured. */
function gateway(server: { allowedHosts?: string[]; corsOrigins?: string[] } = {}) {
  const { logger } = memoryLogger()
  const registry = new FakeRegistry([modelDefinition({ name: 'qwen' })])
  registry.target = { replica: 0, apiRoot: '/v1', dispatcher: upstream.pool }
  return buildApp({
    config: testConfig(server),
    registry,
    usage: new MemoryUsage(),
    logger,
    ...noKeys(),
    admin: fakeAdmin(logger, models),
  })
}

const corsHeaders = (headers: Record<string, unknown>) =>
  Object.keys(headers).filter((name) => name.startsWith('access-control-'))

const APP = 'https://app.example'
const chat = JSON.stringify({ model: 'qwen', messages: [{ role: 'user', content: 'hi' }] })

describe('Host check (DNS rebinding)', () => {
  it.each(['/health', '/readyz', '/v1/models', '/admin/api/models', '/nope'])(
    'answers a forged Host on %s with 403 host_not_allowed saying how to allow it',
    async (url) => {
      const res = await gateway().inject({ url, headers: { host: 'evil.example', ...auth } })
      expect(res.statusCode).toBe(403)
      expect(res.json().error).toMatchObject({ code: 'host_not_allowed', type: 'invalid_request_error', param: null })
      expect(res.json().error.message).toMatch(/"evil\.example".*add the name to server\.allowedHosts in cortex\.yaml/)
    },
  )

  it('refuses before anything runs: no upstream request, no admin action', async () => {
    const app = gateway()
    const headers = { host: 'evil.example:31313', 'content-type': 'application/json', ...auth }
    expect((await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chat, headers })).statusCode).toBe(403)
    expect((await app.inject({ method: 'POST', url: '/admin/api/models/id-api/start', headers })).statusCode).toBe(403)
    expect(upstream.received).toEqual([])
    expect(models.calls).toEqual([])
  })

  it.each([
    'localhost:31313',
    'localhost',
    'LocalHost.',
    'foo.localhost',
    'a.b.localhost:8080',
    '127.0.0.1',
    '127.0.0.1:31313',
    '192.168.1.20:31313',
    '[::1]:31313',
    '[::1]',
    '[fe80::1]:80',
  ])('lets Host %s through with no configuration', async (host) => {
    const res = await gateway().inject({ url: '/v1/models', headers: { host } })
    expect(res.statusCode).toBe(200)
  })

  it.each([
    'localhost.evil.example',
    '127.0.0.1.evil.example',
    'evil.example:31313',
    '::1',
    '[::1',
    '[evil]',
    'user@localhost',
    'localhost/x',
    'localhost:port',
    'a b',
  ])('refuses Host %s', async (host) => {
    expect((await gateway().inject({ url: '/health', headers: { host } })).statusCode).toBe(403)
  })

  it('lets the names in server.allowedHosts through, whatever their case and port, with . and *. wildcards', async () => {
    const app = gateway({ allowedHosts: ['Cortex.LAN', 'gpu-box:8080', '.example.com', '*.ts.net'] })
    const status = async (host: string) => (await app.inject({ url: '/health', headers: { host } })).statusCode
    for (const host of ['cortex.lan', 'CORTEX.lan:31313', 'gpu-box', 'example.com', 'a.b.example.com:443', 'box.tail1.ts.net']) {
      expect([host, await status(host)]).toEqual([host, 200])
    }
    for (const host of ['ts.net', 'notexample.com', 'example.com.evil', 'cortex.lan.evil', 'evil.example']) {
      expect([host, await status(host)]).toEqual([host, 403])
    }
  })

  it('refuses a request with no Host header, HTTP/1.0 or 1.1, in the envelope', async () => {
    const app = gateway()
    await app.listen({ port: 0, host: '127.0.0.1' })
    try {
      const port = (app.server.address() as { port: number }).port
      for (const bytes of ['GET /health HTTP/1.0\r\n\r\n', 'GET /health HTTP/1.1\r\nConnection: close\r\n\r\n']) {
        const answer = await rawRequest(port, bytes)
        expect(answer).toMatch(/^HTTP\/1\.1 403 /)
        expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error).toMatchObject({
          code: 'host_not_allowed',
          message: expect.stringMatching(/no Host header/),
        })
      }
    } finally {
      await app.close()
    }
  })
})

/** Sends bytes as they are (no client adds a Host) and returns all the server writes before it closes. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = ''
    const socket = connect(port, '127.0.0.1', () => socket.end(text))
    socket.on('data', (chunk) => (got += chunk.toString()))
    socket.on('end', () => resolve(got))
    socket.on('error', reject)
  })
}

describe('CORS', () => {
  it('answers a preflight from a listed origin with the methods and the headers the SDKs send', async () => {
    const res = await gateway({ corsOrigins: ['http://other.example', APP] }).inject({
      method: 'OPTIONS',
      url: '/v1/chat/completions',
      headers: {
        origin: APP,
        'access-control-request-method': 'POST',
        'access-control-request-headers':
          'authorization,content-type,openai-beta,x-api-key,x-stainless-arch,x-stainless-lang,x-stainless-retry-count,x-custom',
      },
    })
    expect(res.statusCode).toBe(204)
    expect(res.headers).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'GET, POST',
      // x-custom is left out, so the browser refuses to send it.
      'access-control-allow-headers':
        'authorization, content-type, openai-beta, x-api-key, x-stainless-arch, x-stainless-lang, x-stainless-retry-count',
      'access-control-max-age': '600',
      vary: 'Origin, Access-Control-Request-Headers',
    })
    expect(res.headers['access-control-allow-credentials']).toBeUndefined()
    expect(res.body).toBe('')
  })

  it('answers a preflight from an unlisted origin with 403 and no CORS headers', async () => {
    const res = await gateway({ corsOrigins: [APP] }).inject({
      method: 'OPTIONS',
      url: '/v1/chat/completions',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    })
    expect(res.statusCode).toBe(403)
    expect(corsHeaders(res.headers)).toEqual([])
    expect(res.json().error).toMatchObject({ code: 'origin_not_allowed' })
    expect(res.json().error.message).toMatch(/add "https:\/\/evil\.example" to server\.cors\.origins in cortex\.yaml/)
  })

  it('lets a listed origin read answers, errors included: Access-Control-Allow-Origin, Vary and the exposed headers', async () => {
    const app = gateway({ corsOrigins: [APP] })
    const res = await app.inject({ url: '/v1/models', headers: { origin: APP } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['access-control-allow-origin']).toBe(APP)
    expect(res.headers.vary).toBe('Origin')
    expect(String(res.headers['access-control-expose-headers']).split(', ')).toEqual(
      expect.arrayContaining(['x-request-id', 'retry-after', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-tokens']),
    )
    const missing = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: JSON.stringify({ model: 'nope', messages: [] }),
      headers: { origin: APP, 'content-type': 'application/json' },
    })
    expect(missing.statusCode).toBe(404)
    expect(missing.headers['access-control-allow-origin']).toBe(APP)
  })

  it('refuses any request from an unlisted origin before it runs, so a page cannot spend generations it cannot read', async () => {
    const app = gateway({ corsOrigins: [APP] })
    const res = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: chat,
      headers: { origin: 'https://evil.example', 'content-type': 'text/plain' },
    })
    expect(res.statusCode).toBe(403)
    expect(corsHeaders(res.headers)).toEqual([])
    expect(upstream.received).toEqual([])
    // A near miss is a different origin: origins match exactly.
    const near = await app.inject({ url: '/v1/models', headers: { origin: `${APP}:443` } })
    expect([near.statusCode, near.headers['access-control-allow-origin']]).toEqual([403, undefined])
  })

  it('is closed when no origin is configured: no CORS headers at all, and pages of other origins are refused', async () => {
    const app = gateway()
    const plain = await app.inject('/v1/models')
    expect([plain.statusCode, corsHeaders(plain.headers), plain.headers.vary]).toEqual([200, [], undefined])
    expect((await app.inject({ url: '/v1/models', headers: { origin: APP } })).statusCode).toBe(403)
  })

  it('lets every origin read /v1 when "*" is listed, answering with the wildcard', async () => {
    const app = gateway({ corsOrigins: ['*'] })
    const res = await app.inject({ url: '/v1/models', headers: { origin: 'https://anyone.example' } })
    expect([res.statusCode, res.headers['access-control-allow-origin']]).toEqual([200, '*'])
  })

  it("serves the gateway's own web UI (its own origin) without CORS headers", async () => {
    const res = await gateway().inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: chat,
      headers: { host: '127.0.0.1:31313', origin: 'http://127.0.0.1:31313', 'content-type': 'application/json' },
    })
    expect(res.statusCode).toBe(200)
    expect(corsHeaders(res.headers)).toEqual([])
  })
})

describe('admin API and the Origin header', () => {
  it.each([
    ['GET', '/admin/api/models'],
    ['GET', '/admin/api'],
    ['GET', '/admin/api?x=1'],
    ['POST', '/admin/api/models/id-api/start'],
    ['GET', '/admin/api/unknown'],
    ['GET', '/%61dmin/api/models'],
    ['GET', '/%61dmin/api/unknown'],
  ])('refuses %s %s from a foreign origin with 403, even one listed in server.cors.origins', async (method, url) => {
    const res = await gateway({ corsOrigins: [APP, '*'] }).inject({
      method: method as 'GET',
      url,
      headers: { origin: APP, ...auth },
    })
    expect(res.statusCode).toBe(403)
    expect(corsHeaders(res.headers)).toEqual([])
    expect(res.json().error).toMatchObject({ code: 'origin_not_allowed' })
    expect(res.json().error.message).toMatch(
      /admin API refuses requests from web pages of other origins \(Origin: https:\/\/app\.example\)/,
    )
    expect(models.calls).toEqual([])
  })

  it('refuses the preflight too, before asking for the token', async () => {
    const res = await gateway({ corsOrigins: [APP] }).inject({
      method: 'OPTIONS',
      url: '/admin/api/models/id-api/start',
      headers: { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    })
    expect([res.statusCode, res.json().error.code, corsHeaders(res.headers)]).toEqual([403, 'origin_not_allowed', []])
  })

  it.each([
    ['the same host on another port', 'localhost:31313', 'http://localhost:3000'],
    ['another name for the same address', 'localhost:31313', 'http://127.0.0.1:31313'],
    ['a sandboxed frame or file: page', 'localhost:31313', 'null'],
  ])('treats %s as foreign', async (_name, host, origin) => {
    const res = await gateway().inject({ url: '/admin/api/models', headers: { host, origin, ...auth } })
    expect(res.statusCode).toBe(403)
  })

  it.each([
    ['the web UI on loopback', '127.0.0.1:31313', 'http://127.0.0.1:31313'],
    ['the web UI by name, in any case', 'LocalHost:31313', 'http://localhost:31313'],
    ['IPv6, spelled another way', '[0:0::1]:31313', 'http://[::1]:31313'],
    ['behind a TLS proxy that keeps Host', 'cortex.example.com', 'https://cortex.example.com'],
    ['a default port written out', 'cortex.example.com:80', 'http://cortex.example.com'],
  ])('lets its own origin through: %s', async (_name, host, origin) => {
    const res = await gateway({ allowedHosts: ['cortex.example.com'] }).inject({
      url: '/admin/api/models',
      headers: { host, origin, ...auth },
    })
    expect(res.statusCode).toBe(200)
    expect(corsHeaders(res.headers)).toEqual([])
  })

  it('leaves requests without Origin (CLI, scripts) to the token check', async () => {
    const app = gateway({ corsOrigins: [APP] })
    expect((await app.inject({ url: '/admin/api/models', headers: auth })).statusCode).toBe(200)
    expect((await app.inject({ url: '/admin/api/models' })).statusCode).toBe(401)
  })
})

describe('CORS on a streamed answer through a real server', () => {
  it('sends Access-Control-Allow-Origin and Vary with the SSE head', async () => {
    upstream.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.end('data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n')
    }
    const app = gateway({ corsOrigins: [APP] })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const client = new Client(`http://127.0.0.1:${(app.server.address() as { port: number }).port}`)
    try {
      const res = await client.request({
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { origin: APP, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'qwen', messages: [{ role: 'user', content: 'hi' }], stream: true }),
      })
      expect(res.statusCode).toBe(200)
      expect(res.headers).toMatchObject({
        'content-type': 'text/event-stream',
        'access-control-allow-origin': APP,
        vary: 'Origin',
      })
      expect(res.headers['access-control-expose-headers']).toMatch(/x-request-id/)
      expect(await res.body.text()).toMatch(/data: \[DONE\]\n\n$/)
    } finally {
      await client.close()
      await app.close()
    }
  })
})
