import { describe, expect, it } from 'vitest'
import { modelDefinition } from '../contract/model.test-support.js'
import { buildApp } from './app.js'
import { FakeRegistry, MemoryKeys, MemoryUsage, memoryLogger, noKeys, testConfig } from './fakes.test-support.js'

const KEY = 'sk-cortex-envelope-0123456789abcdef'

function gateway() {
  const keys = new MemoryKeys()
  keys.add(KEY, { name: 'k', limits: { rpm: 1, tpm: null, concurrency: null, dailyTokens: null } })
  return buildApp({
    config: { ...testConfig(), auth: { required: true, allowLoopbackWithoutKey: false } },
    registry: new FakeRegistry([modelDefinition({ id: 'id-qwen', name: 'qwen' })]),
    usage: new MemoryUsage(),
    logger: memoryLogger().logger,
    ...noKeys(keys),
  })
}

const post = (url: string, body: unknown, key: string | null = KEY) => ({
  method: 'POST' as const,
  url,
  headers: { 'content-type': 'application/json', ...(key !== null && { 'x-api-key': key }) },
  payload: JSON.stringify(body),
})

describe("errors in the client's own envelope", () => {
  it.each([
    ['/v1/messages', { model: 'nope', messages: [], max_tokens: 1 }, KEY, 404, 'not_found_error'],
    ['/v1/messages', { model: 'qwen', messages: [], max_tokens: 1 }, null, 401, 'authentication_error'],
    ['/v1/messages/count_tokens', { model: 'nope', messages: [] }, KEY, 404, 'not_found_error'],
    ['/v1/messages?beta=true', { model: 'qwen', max_tokens: 1 }, KEY, 400, 'invalid_request_error'],
    ['/v1//messages', '{"model":', KEY, 400, 'invalid_request_error'],
  ])("answers Cortex's own error on %s in Anthropic's envelope", async (url, body, key, status, type) => {
    const res = await gateway().inject(post(url, body, key))
    expect(res.statusCode).toBe(status)
    const json = res.json()
    expect(json).toMatchObject({ type: 'error', error: { type } })
    expect(typeof json.error.message).toBe('string')
  })

  it("answers a rate limit on /v1/messages as Anthropic's rate_limit_error, with Retry-After", async () => {
    const app = gateway()
    // The first request takes the key's one request a minute (whatever the engine then says); the second is refused.
    const body = { model: 'qwen', messages: [], max_tokens: 1 }
    await app.inject(post('/v1/messages', body))
    const res = await app.inject(post('/v1/messages', body))
    expect(res.statusCode).toBe(429)
    expect(res.headers['retry-after']).toBeDefined()
    expect(res.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } })
  })

  it.each(['/v1/chat/completions', '/v1/messagesx', '/v1/embeddings'])('keeps OpenAI’s envelope on %s', async (url) => {
    const res = await gateway().inject(post(url, { model: 'nope', messages: [], input: 'x' }))
    expect(res.statusCode).toBe(404)
    expect(res.json().error).toMatchObject({ code: 'model_not_found', type: 'invalid_request_error' })
  })

  it.each([
    ['a 1 MB model name', { model: 'm'.repeat(1_000_000), messages: [] }],
    ['a 1 MB model name on /v1/messages', { model: 'm'.repeat(1_000_000), messages: [], max_tokens: 1 }],
  ])('does not echo %s back whole', async (_what, body) => {
    const url = _what.includes('messages') ? '/v1/messages' : '/v1/chat/completions'
    const res = await gateway().inject(post(url, body))
    expect(res.statusCode).toBe(404)
    expect(res.body.length).toBeLessThan(5000)
  })
})
