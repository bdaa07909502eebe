import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { NO_LIMITS } from '../auth/keys.test-support.js'
import { CortexError } from '../contract/errors.js'
import { modelDefinition } from '../contract/model.test-support.js'
import { buildApp } from './app.js'
import {
  FakeRegistry,
  MemoryKeys,
  MemoryUsage,
  MockUpstream,
  eventually,
  json,
  memoryLogger,
  noKeys,
  testConfig,
} from './fakes.test-support.js'

const KEY = 'sk-cortex-app-key-0123456789abcdef'
const QWEN_ONLY = 'sk-cortex-qwen-only-0123456789abc'
const EMBED_ONLY = 'sk-cortex-embed-only-0123456789ab'
const LIMITED = 'sk-cortex-limited-0123456789abcdef'
const ADMIN = 'admin-token-for-keys-test-0123456789'

const upstream = new MockUpstream()
let keys: MemoryKeys
let usage: MemoryUsage
let refusals: string[]

beforeAll(() => upstream.start())
afterAll(() => upstream.close())

beforeEach(() => {
  upstream.received.length = 0
  upstream.handler = (_req, res) => json(res, 200, { id: 'x', choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } })
  keys = new MemoryKeys()
  keys.add(KEY, { name: 'app', orgId: 'org_1' })
  keys.add(QWEN_ONLY, { name: 'qwen-only', models: ['qwen'] })
  keys.add(EMBED_ONLY, { name: 'embed-only', scopes: ['embeddings'] })
  keys.add(LIMITED, { name: 'limited', limits: { rpm: 2, tpm: null, concurrency: null, dailyTokens: null } })
  usage = new MemoryUsage()
  refusals = []
})

/** The gateway with keys required, over two models. */
function gateway(auth: { allowLoopbackWithoutKey?: boolean } = {}) {
  const { logger, lines } = memoryLogger()
  const registry = new FakeRegistry([
    modelDefinition({ id: 'id-qwen', name: 'qwen2.5-7b', aliases: ['qwen'] }),
    modelDefinition({ id: 'id-llama', name: 'llama' }),
  ])
  registry.target = { replica: 0, apiRoot: '/v1', dispatcher: upstream.pool }
  const app = buildApp({
    config: { ...testConfig(), auth: { required: true, allowLoopbackWithoutKey: auth.allowLoopbackWithoutKey ?? false } },
    registry,
    usage,
    logger,
    ...noKeys(keys),
    onRefused: (reason) => refusals.push(reason),
    metrics: { registry: { metrics: async () => '', contentType: 'text/plain' } as never, token: ADMIN },
  })
  return { app, lines, registry }
}

const chat = (model: string, headers: Record<string, string> = {}, remoteAddress?: string) => ({
  method: 'POST' as const,
  url: '/v1/chat/completions',
  headers: { 'content-type': 'application/json', ...headers },
  payload: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 }),
  ...(remoteAddress && { remoteAddress }),
})
const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

describe('/v1 with auth.required', () => {
  it('refuses a request without a key, or with a wrong one, before the engine sees it', async () => {
    const { app } = gateway()
    for (const headers of [{}, bearer('sk-cortex-wrong-0123456789abcdefgh'), { authorization: 'Basic dXNlcjpwYXNz' }]) {
      const res = await app.inject(chat('qwen', headers))
      expect(res.statusCode, JSON.stringify(headers)).toBe(401)
      expect(res.json().error).toMatchObject({ code: 'invalid_api_key', type: 'invalid_request_error' })
      expect(res.json().error.message).toContain('cortex keys create')
    }
    expect(upstream.received).toHaveLength(0)
    expect(refusals).toEqual(['invalid_api_key', 'invalid_api_key', 'invalid_api_key'])
  })

  it('serves a key given as Bearer or as x-api-key, and never passes it to the engine', async () => {
    const { app, lines } = gateway()
    expect((await app.inject(chat('qwen', bearer(KEY)))).statusCode).toBe(200)
    expect((await app.inject(chat('qwen', { 'x-api-key': KEY }))).statusCode).toBe(200)
    expect(upstream.received).toHaveLength(2)
    for (const r of upstream.received) {
      expect(r.headers.authorization).toBeUndefined()
      expect(r.headers['x-api-key']).toBeUndefined()
    }
    await eventually(() => expect(usage.rows).toHaveLength(2))
    expect(usage.rows[0]).toMatchObject({ keyId: 'key_1', orgId: 'org_1', status: 200, promptTokens: 3 })
    // The request line names the key, never the key itself.
    expect(lines.filter((l) => l.msg === 'request').map((l) => l.key)).toEqual(['app', 'app'])
    expect(JSON.stringify(lines)).not.toContain(KEY)
  })

  it('limits a key to its models: 403 for another, and a 404 that lists only its own', async () => {
    const { app } = gateway()
    expect((await app.inject(chat('qwen2.5-7b', bearer(QWEN_ONLY)))).statusCode).toBe(200)
    const other = await app.inject(chat('llama', bearer(QWEN_ONLY)))
    expect(other.statusCode).toBe(403)
    expect(other.json().error).toMatchObject({ code: 'model_not_allowed' })
    expect(other.json().error.message).toContain('it may use: qwen')
    const unknown = await app.inject(chat('nope', bearer(QWEN_ONLY)))
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json().error.message).toContain('qwen2.5-7b')
    expect(unknown.json().error.message).not.toContain('llama')
    const list = await app.inject({ url: '/v1/models', headers: bearer(QWEN_ONLY) })
    expect(list.json().data.map((m: { id: string }) => m.id)).toEqual(['qwen2.5-7b', 'qwen'])
    expect((await app.inject({ url: '/v1/models/llama', headers: bearer(QWEN_ONLY) })).statusCode).toBe(404)
    expect(refusals).toEqual(['model_not_allowed'])
  })

  it('holds a key to its endpoint groups', async () => {
    const { app } = gateway()
    const refused = await app.inject(chat('qwen', bearer(EMBED_ONLY)))
    expect(refused.statusCode).toBe(403)
    expect(refused.json().error).toMatchObject({ code: 'scope_not_allowed' })
    expect(refused.json().error.message).toContain('"inference"')
    const embed = await app.inject({
      method: 'POST',
      url: '/v1/embeddings',
      headers: { ...bearer(EMBED_ONLY), 'content-type': 'application/json' },
      payload: { model: 'qwen', input: 'hello' },
    })
    expect(embed.statusCode).toBe(200)
    expect((await app.inject({ url: '/v1/models', headers: bearer(EMBED_ONLY) })).statusCode).toBe(200)
    expect((await app.inject({ method: 'HEAD', url: '/v1/models', headers: bearer(EMBED_ONLY) })).statusCode).toBe(200)
    // The router decodes the path, so the scope follows the route it matched, not the raw URL.
    keys.add('sk-cortex-chat-only-0123456789abcd', { name: 'chat-only', scopes: ['inference'] })
    const encoded = await app.inject({
      method: 'POST',
      url: '/v1/%65mbeddings',
      headers: { ...bearer('sk-cortex-chat-only-0123456789abcd'), 'content-type': 'application/json' },
      payload: { model: 'qwen', input: 'hello' },
    })
    expect(encoded.statusCode).toBe(403)
    expect(encoded.json().error.code).toBe('scope_not_allowed')
  })

  it('opens loopback without a key only when allowLoopbackWithoutKey is on', async () => {
    expect((await gateway().app.inject(chat('qwen'))).statusCode).toBe(401)
    const open = gateway({ allowLoopbackWithoutKey: true }).app
    expect((await open.inject(chat('qwen'))).statusCode).toBe(200)
    expect((await open.inject(chat('qwen', {}, '192.0.2.10'))).statusCode).toBe(401)
    expect((await open.inject(chat('qwen', bearer(KEY), '192.0.2.10'))).statusCode).toBe(200)
    await eventually(() => expect(usage.rows.map((r) => r.keyId)).toEqual([null, 'key_1']))
  })

  it('refuses a key from outside its IP allowlist', async () => {
    keys.add('sk-cortex-lan-only-0123456789abcdef', { name: 'lan', ips: ['192.0.2.0/24'] })
    const { app } = gateway()
    expect((await app.inject(chat('qwen', bearer('sk-cortex-lan-only-0123456789abcdef'), '192.0.2.77'))).statusCode).toBe(200)
    const res = await app.inject(chat('qwen', bearer('sk-cortex-lan-only-0123456789abcdef'), '198.51.100.1'))
    expect(res.statusCode).toBe(403)
    expect(res.json().error).toMatchObject({ code: 'ip_not_allowed' })
    expect(res.json().error.message).toContain('198.51.100.1')
  })

  it('answers past a limit with 429, Retry-After and the x-ratelimit headers, and records it', async () => {
    const { app } = gateway()
    const first = await app.inject(chat('qwen', bearer(LIMITED)))
    expect(first.headers).toMatchObject({ 'x-ratelimit-limit-requests': '2', 'x-ratelimit-remaining-requests': '1' })
    await app.inject(chat('qwen', bearer(LIMITED)))
    const res = await app.inject(chat('qwen', bearer(LIMITED)))
    expect(res.statusCode).toBe(429)
    expect(res.json().error).toMatchObject({ code: 'rate_limit_exceeded' })
    expect(res.json().error.message).toContain('rpm')
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(59)
    expect(res.headers).toMatchObject({ 'x-ratelimit-remaining-requests': '0' })
    expect(upstream.received).toHaveLength(2)
    expect(refusals).toEqual(['rpm'])
    await eventually(() => expect(usage.rows.map((r) => r.status)).toEqual([200, 200, 429]))
  })

  it('charges a key its real tokens, and none for a request the engine never got', async () => {
    keys.add('sk-cortex-tpm-0123456789abcdefghij', { name: 'tpm', limits: { ...NO_LIMITS, tpm: 1000 } })
    const { app, registry } = gateway()
    const first = await app.inject(chat('qwen', bearer('sk-cortex-tpm-0123456789abcdefghij')))
    // The reservation (max_tokens 8 + the body's bytes / 4) is what the header says is left at admission.
    expect(Number(first.headers['x-ratelimit-remaining-tokens'])).toBeLessThan(1000)
    registry.acquireImpl = async () => {
      throw new CortexError('model_loading', 'loading', { retryAfterSeconds: 5 })
    }
    expect((await app.inject(chat('qwen', bearer('sk-cortex-tpm-0123456789abcdefghij')))).statusCode).toBe(503)
    registry.acquireImpl = null
    upstream.handler = (_req, res) => json(res, 400, { error: { message: 'max_tokens is larger than the context' } })
    expect((await app.inject(chat('qwen', bearer('sk-cortex-tpm-0123456789abcdefghij')))).statusCode).toBe(400)
    upstream.handler = (_req, res) => json(res, 200, { id: 'x', choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } })
    const third = await app.inject(chat('qwen', bearer('sk-cortex-tpm-0123456789abcdefghij')))
    // Left: 1000 - 7 (the first answer's usage: 3 + 4) - 0 (the 503, the 400) - this request's own reservation.
    const reserved = 8 + Math.ceil(Buffer.byteLength(chat('qwen').payload) / 4)
    expect(Number(third.headers['x-ratelimit-remaining-tokens'])).toBe(1000 - 7 - reserved)
  })

  it('keeps /metrics for the admin token: an API key, even with admin:read, is not enough', async () => {
    const { app } = gateway()
    const metrics = await app.inject({ url: '/metrics', headers: bearer(KEY) })
    expect(metrics.statusCode).toBe(401)
    expect((await app.inject({ url: '/metrics', headers: bearer(ADMIN) })).statusCode).toBe(200)
  })
})
