import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Pool } from 'undici'
import { CortexError } from '../contract/errors.js'
import { modelDefinition } from '../contract/model.test-support.js'
import { buildApp } from './app.js'
import {
  FakeRegistry,
  MemoryUsage,
  MockUpstream,
  eventually,
  json,
  memoryLogger,
  noKeys,
  testConfig,
} from './fakes.test-support.js'

const upstream = new MockUpstream()
let registry: FakeRegistry
let usage: MemoryUsage

beforeAll(async () => {
  await upstream.start()
})
afterAll(() => upstream.close())

beforeEach(() => {
  upstream.received.length = 0
  upstream.handler = (_req, res) => json(res, 200, { id: 'x', choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } })
  registry = new FakeRegistry([
    modelDefinition({ id: 'id-qwen', name: 'qwen2.5-7b', aliases: ['qwen', 'q'] }),
    modelDefinition({ id: 'id-team', name: 'team', runtime: 'remote', engine: 'openai', upstreamModel: 'Qwen/Qwen2.5-72B' }),
  ])
  registry.target = { replica: 0, apiRoot: '/v1', dispatcher: upstream.pool }
  usage = new MemoryUsage()
})

function app(opts: { bodyLimit?: number; prompts?: boolean; headersTimeoutMs?: number } = {}) {
  const { logger, lines } = memoryLogger()
  const server = buildApp({
    config: testConfig(opts.bodyLimit ? { bodyLimit: opts.bodyLimit } : {}, opts.prompts),
    registry,
    usage,
    logger,
    ...noKeys(),
    proxy: opts.headersTimeoutMs ? { headersTimeoutMs: opts.headersTimeoutMs } : {},
  })
  return { server, lines }
}

function post(url: string, body: string | object, headers: Record<string, string> = {}) {
  const { server, lines } = app()
  const payload = typeof body === 'string' ? body : JSON.stringify(body)
  return server
    .inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json', ...headers } })
    .then((res) => ({ res, lines }))
}

const chat = { model: 'qwen', messages: [{ role: 'user', content: 'hi' }] }

describe('health', () => {
  it('answers /health and /readyz with the models once ready', async () => {
    const { server } = app()
    expect((await server.inject('/health')).json()).toEqual({ status: 'ok' })
    const ready = await server.inject('/readyz')
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toEqual({
      status: 'ready',
      models: [
        { name: 'qwen2.5-7b', state: 'running', replicas: [] },
        { name: 'team', state: 'running', replicas: [] },
      ],
    })
  })
})

describe('GET /v1/models', () => {
  it('lists every model name and alias', async () => {
    const body = (await app().server.inject('/v1/models')).json()
    expect(body.object).toBe('list')
    expect(body.data.map((m: { id: string; alias_of?: string }) => [m.id, m.alias_of])).toEqual([
      ['qwen2.5-7b', undefined],
      ['qwen', 'qwen2.5-7b'],
      ['q', 'qwen2.5-7b'],
      ['team', undefined],
    ])
    expect(body.data[0]).toMatchObject({ object: 'model', owned_by: 'cortex', state: 'running', context_length: 4096 })
    expect(Number.isInteger(body.data[0].created)).toBe(true)
  })
})

describe('request ids and logging', () => {
  it('answers one model or alias by id, and 404 with the list for an unknown one', async () => {
    const { server } = app()
    expect((await server.inject('/v1/models/q')).json()).toMatchObject({ id: 'q', object: 'model', alias_of: 'qwen2.5-7b' })
    expect((await server.inject('/v1/models/team')).json()).toMatchObject({ id: 'team', object: 'model' })
    const missing = await server.inject('/v1/models/nope')
    expect(missing.statusCode).toBe(404)
    expect(missing.json().error).toMatchObject({ code: 'model_not_found' })
    expect(missing.json().error.message).toContain('qwen2.5-7b')
  })

  it('echoes a sane x-request-id, replaces anything else, and logs one compact line', async () => {
    const { server, lines } = app()
    expect((await server.inject({ url: '/health', headers: { 'x-request-id': 'abc-123' } })).headers['x-request-id']).toBe(
      'abc-123',
    )
    const odd = await server.inject({ url: '/health', headers: { 'x-request-id': 'no spaces <script>' } })
    expect(odd.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    await server.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: chat,
      headers: { authorization: 'Bearer sk-secret' },
    })
    await eventually(() => expect(lines.filter((l) => l.msg === 'request')).toHaveLength(3))
    const last = lines.filter((l) => l.msg === 'request')[2]!
    expect(last).toMatchObject({ method: 'POST', url: '/v1/chat/completions', status: 200, model: 'qwen2.5-7b' })
    expect(JSON.stringify(lines)).not.toMatch(/sk-secret|"hi"/)
  })

  it('logs the body only when logging.prompts is on', async () => {
    const { server, lines } = app({ prompts: true })
    await server.inject({ method: 'POST', url: '/v1/chat/completions', payload: chat })
    await eventually(() => expect(lines.find((l) => l.msg === 'request')?.body).toBe(JSON.stringify(chat)))
  })
})

describe('errors', () => {
  it('answers unknown routes with a 404 envelope', async () => {
    const res = await app().server.inject('/nope')
    expect(res.statusCode).toBe(404)
    expect(res.json().error).toMatchObject({ code: 'not_found', type: 'invalid_request_error', param: null })
  })

  it('answers malformed JSON with 400 invalid_json', async () => {
    const { res } = await post('/v1/chat/completions', '{"model":"qwen",')
    expect(res.statusCode).toBe(400)
    expect(res.json().error.code).toBe('invalid_json')
  })

  it('answers a POST without a body with 400 invalid_json, not a failure', async () => {
    const res = await app().server.inject({ method: 'POST', url: '/v1/chat/completions' })
    expect(res.statusCode).toBe(400)
    expect(res.json().error.code).toBe('invalid_json')
  })

  it('answers an oversized body with 413 naming the limit and the setting', async () => {
    const { server } = app({ bodyLimit: 1024 * 1024 })
    const res = await server.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: { ...chat, pad: 'x'.repeat(1024 * 1024) },
    })
    expect(res.statusCode).toBe(413)
    expect(res.json().error.code).toBe('body_too_large')
    expect(res.json().error.message).toMatch(/1 MiB.*server\.bodyLimit/)
    expect(upstream.received).toHaveLength(0)
  })

  it.each([
    ['/v1/chat/completions', { messages: [] }, 'model'],
    ['/v1/chat/completions', { model: 7, messages: [] }, 'model'],
    ['/v1/chat/completions', { model: 'qwen' }, 'messages'],
    ['/v1/completions', { model: 'qwen', prompt: null }, 'prompt'],
    ['/v1/embeddings', { model: 'qwen' }, 'input'],
  ])('answers %s %j with 400 naming param %s', async (url, body, param) => {
    const { res } = await post(url, body)
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toMatchObject({ code: 'invalid_request', param, type: 'invalid_request_error' })
    expect(usage.rows).toHaveLength(0)
  })

  it('answers an unknown model with 404 listing the models', async () => {
    const { res } = await post('/v1/chat/completions', { ...chat, model: 'llama-70b' })
    expect(res.statusCode).toBe(404)
    expect(res.json().error.code).toBe('model_not_found')
    expect(res.json().error.message).toContain('"llama-70b"')
    expect(res.json().error.message).toContain('qwen2.5-7b (alias qwen, q); team')
  })

  it.each([
    new CortexError('model_loading', 'model "qwen2.5-7b" is loading', { retryAfterSeconds: 4.2 }),
    new CortexError('queue_full', 'queue of "qwen2.5-7b" is full (8 waiting)', { retryAfterSeconds: 2 }),
  ])('answers the registry refusing with $code as 503 + Retry-After', async (err) => {
    registry.acquireImpl = () => Promise.reject(err)
    const { res } = await post('/v1/chat/completions', chat)
    expect(res.statusCode).toBe(503)
    expect(res.headers['retry-after']).toBe(String(Math.ceil(err.details!.retryAfterSeconds!)))
    expect(res.json().error).toMatchObject({ code: err.code, message: err.message, type: 'server_error' })
    expect(usage.rows[0]).toMatchObject({ status: 503, replica: null, model: 'qwen2.5-7b' })
    expect(registry.leases).toHaveLength(0)
  })

  it('answers an unexpected failure with 500 and logs its stack', async () => {
    registry.acquireImpl = () => Promise.reject(new TypeError('boom'))
    const { res, lines } = await post('/v1/chat/completions', chat)
    expect(res.statusCode).toBe(500)
    expect(res.json().error.code).toBe('internal_error')
    expect(res.json().error.message).not.toContain('boom')
    expect(lines.find((l) => l.msg === 'request failed')).toMatchObject({
      err: { message: 'boom', stack: expect.stringContaining('TypeError') },
    })
  })
})

describe('proxying (non-stream)', () => {
  it('sends the engine the exact bytes, without the client key, and passes the answer through', async () => {
    const payload = '{ "model" : "qwen",\n"messages":[{"role":"user","content":"caf\\u00e9 \\"q\\" 😀"}], "max_tokens": 5 }'
    const { res } = await post('/v1/chat/completions?trace=1&api_key=sk-client', payload, {
      authorization: 'Bearer sk-client',
      accept: 'application/json',
    })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ id: 'x', choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } })
    const got = upstream.received[0]!
    // No query parameter of the client's reaches the engine: chat completions define none, and a key never travels.
    expect(got.url).toBe('/v1/chat/completions')
    expect(got.body.equals(Buffer.from(payload))).toBe(true)
    expect(got.headers['content-type']).toBe('application/json')
    expect(got.headers.accept).toBe('application/json')
    expect(got.headers.authorization).toBeUndefined()
    expect(usage.rows).toEqual([
      expect.objectContaining({ model: 'qwen2.5-7b', replica: 0, endpoint: '/v1/chat/completions', status: 200, stream: false }),
    ])
    expect(usage.rows[0]).toMatchObject({
      promptTokens: 3,
      completionTokens: 4,
      bytesIn: Buffer.byteLength(payload),
      bytesOut: res.rawPayload.length,
    })
    expect(registry.leases).toEqual([{ released: 1 }])
  })

  it('sends a stream request with only stream_options spliced in', async () => {
    const payload = '{"model":"qwen","stream":true,"messages":[]}'
    await post('/v1/chat/completions', payload)
    expect(upstream.received[0]!.body.toString()).toBe(
      '{"stream_options":{"include_usage":true},"model":"qwen","stream":true,"messages":[]}',
    )
  })

  it('passes an engine error through with its status and body', async () => {
    const body =
      '{"error":{"code":400,"message":"the request exceeds the available context size","type":"exceed_context_size_error"}}'
    upstream.handler = (_req, res) => json(res, 400, body)
    const { res } = await post('/v1/completions', { model: 'qwen', prompt: 'x' })
    expect(res.statusCode).toBe(400)
    expect(res.body).toBe(body)
    expect(usage.rows[0]).toMatchObject({ status: 400, endpoint: '/v1/completions' })
    expect(registry.leases).toEqual([{ released: 1 }])
  })

  it("passes a remote's back-off headers through with its 429", async () => {
    upstream.handler = (_req, res) => {
      res.setHeader('retry-after', '7')
      res.setHeader('x-ratelimit-remaining-requests', '0')
      res.setHeader('x-internal-secret', 'no')
      json(res, 429, { error: { message: 'slow down', type: 'rate_limit_error' } })
    }
    const { res } = await post('/v1/chat/completions', chat)
    expect(res.statusCode).toBe(429)
    expect(res.headers['retry-after']).toBe('7')
    expect(res.headers['x-ratelimit-remaining-requests']).toBe('0')
    expect(res.headers['x-internal-secret']).toBeUndefined()
  })

  it('sends a remote its key and model name, under its API root, and renames the model back', async () => {
    registry.target = {
      replica: 1,
      apiRoot: '/openai/v1',
      dispatcher: upstream.pool,
      apiKey: 'sk-remote',
      upstreamModel: 'Qwen/Qwen2.5-72B',
    }
    upstream.handler = (_req, res) =>
      json(res, 200, { model: 'Qwen/Qwen2.5-72B', data: [{ embedding: [0.5] }], usage: { prompt_tokens: 2 } })
    const { res } = await post('/v1/embeddings', { input: 'hi', model: 'team' }, { authorization: 'Bearer sk-client' })
    const got = upstream.received[0]!
    expect(got.url).toBe('/openai/v1/embeddings')
    expect(got.headers.authorization).toBe('Bearer sk-remote')
    expect(got.body.toString()).toBe('{"input":"hi","model":"Qwen/Qwen2.5-72B"}')
    expect(res.json()).toEqual({ model: 'team', data: [{ embedding: [0.5] }], usage: { prompt_tokens: 2 } })
    expect(usage.rows[0]).toMatchObject({ model: 'team', replica: 1, promptTokens: 2, completionTokens: null })
  })

  it('forwards any other POST /v1/* to the model in the body', async () => {
    const { res } = await post('/v1/rerank', { model: 'q', query: 'a', documents: ['b'] })
    expect(res.statusCode).toBe(200)
    expect(upstream.received[0]!.url).toBe('/v1/rerank')
    expect(usage.rows[0]!.endpoint).toBe('/v1/rerank')
    expect((await post('/v1/../admin/api/keys', { model: 'q' })).res.statusCode).toBe(404)
    expect((await post('/v1/%2e%2e/x', { model: 'q' })).res.statusCode).toBe(404)
  })

  it('accepts a JSON body whatever its content type', async () => {
    const { res } = await post('/v1/chat/completions', chat, { 'content-type': 'application/x-www-form-urlencoded' })
    expect(res.statusCode).toBe(200)
    expect(upstream.received[0]!.headers['content-type']).toBe('application/json')
  })

  it('answers 502 upstream_unreachable when the engine refuses the connection', async () => {
    const closed = new MockUpstream()
    await closed.start()
    const pool = new Pool(closed.url)
    await closed.close()
    registry.target = { replica: 0, apiRoot: '/v1', dispatcher: pool }
    const { res } = await post('/v1/chat/completions', chat)
    await pool.close()
    expect(res.statusCode).toBe(502)
    expect(res.json().error).toMatchObject({ code: 'upstream_unreachable', type: 'server_error' })
    expect(res.json().error.message).toContain('ECONNREFUSED')
    expect(usage.rows[0]).toMatchObject({ status: 502, replica: 0 })
    expect(registry.leases).toEqual([{ released: 1 }])
  })

  it('answers 504 upstream_timeout when the engine sends no headers in time', async () => {
    upstream.handler = () => undefined
    const { server } = app({ headersTimeoutMs: 150 })
    const res = await server.inject({ method: 'POST', url: '/v1/chat/completions', payload: chat })
    expect(res.statusCode).toBe(504)
    expect(res.json().error.code).toBe('upstream_timeout')
    expect(usage.rows[0]).toMatchObject({ status: 504 })
    expect(registry.leases).toEqual([{ released: 1 }])
  })
})
