import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { modelDefinition } from '../contract/model.test-support.js'
import { buildApp } from './app.js'
import { FakeRegistry, MemoryKeys, MemoryUsage, memoryLogger, noKeys, testConfig } from './fakes.test-support.js'
import { rawRequest, rawSend } from './raw-socket.test-support.js'

/** Issue 10, "Every error in the client's envelope, and bounded": through a listening gateway, as bytes on a socket. */

const KEY = 'sk-cortex-envelope-0123456789abcdef'
const ONE_A_MINUTE = 'sk-cortex-envelope-rpm1-0123456789a'
const EMBED_ONLY = 'sk-cortex-envelope-embed-0123456789'

let app: FastifyInstance
let port: number

beforeAll(async () => {
  const keys = new MemoryKeys()
  keys.add(KEY, { name: 'k' })
  keys.add(ONE_A_MINUTE, { name: 'rpm1', limits: { rpm: 1, tpm: null, concurrency: null, dailyTokens: null } })
  keys.add(EMBED_ONLY, { name: 'embed', scopes: ['embeddings'] })
  app = buildApp({
    config: { ...testConfig(), auth: { required: true, allowLoopbackWithoutKey: false } },
    registry: new FakeRegistry([modelDefinition({ id: 'id-qwen', name: 'qwen' })]),
    usage: new MemoryUsage(),
    logger: memoryLogger().logger,
    ...noKeys(keys),
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  port = (app.server.address() as { port: number }).port
})
afterAll(() => app.close())

function post(path: string, body: unknown, headers: string[] = [`x-api-key: ${KEY}`]) {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  return rawSend(
    port,
    rawRequest(
      `POST ${path} HTTP/1.1`,
      [...headers, 'content-type: application/json', `content-length: ${Buffer.byteLength(text)}`, 'connection: close'],
      text,
    ),
  )
}

const unknown = { model: 'nope', messages: [], max_tokens: 1 }

describe("errors in the client's own envelope", () => {
  it.each([
    ['/v1/messages', unknown, undefined, 404, 'not_found_error'],
    ['/v1/messages', { model: 'qwen', messages: [], max_tokens: 1 }, [], 401, 'authentication_error'],
    ['/v1/messages', { model: 'qwen', messages: [], max_tokens: 1 }, [`x-api-key: ${EMBED_ONLY}`], 403, 'permission_error'],
    ['/v1/messages/count_tokens', { model: 'nope', messages: [] }, undefined, 404, 'not_found_error'],
    ['/v1/messages?beta=true', { model: 'qwen', max_tokens: 1 }, undefined, 400, 'invalid_request_error'],
    ['/v1//messages', '{"model":', undefined, 400, 'invalid_request_error'],
    ['/v1/%6Dessages/', unknown, undefined, 404, 'not_found_error'],
    ['/v1/messages/batches', unknown, undefined, 404, 'not_found_error'],
    ['/v1/messages;x', unknown, undefined, 404, 'not_found_error'],
    ['/v1/messages', '{"model":"qwen","model":"x","messages":[]}', undefined, 400, 'invalid_request_error'],
    ['/v1/messages', { ...unknown, max_tokens: '1' }, undefined, 400, 'invalid_request_error'],
    ['/v1/messages', unknown, [`x-api-key: ${KEY}`, `x-api-key: ${KEY}`], 400, 'invalid_request_error'],
    ['/v1/messages', unknown, [`x-api-key: ${KEY}`, 'origin: http://evil.example'], 403, 'permission_error'],
  ])("answers Cortex's own error on %s (%j) in Anthropic's envelope", async (path, body, headers, status, type) => {
    const res = await post(path, body, headers)
    expect(res.status, res.body).toBe(status)
    expect(res.json()).toEqual({ type: 'error', error: { type, message: expect.any(String) } })
  })

  it("answers a rate limit on /v1/messages as Anthropic's rate_limit_error, with Retry-After", async () => {
    // The first request takes the key's one request a minute (whatever the engine then says); the second is refused.
    const body = { model: 'qwen', messages: [], max_tokens: 1 }
    await post('/v1/messages', body, [`x-api-key: ${ONE_A_MINUTE}`])
    const res = await post('/v1/messages', body, [`x-api-key: ${ONE_A_MINUTE}`])
    expect(res.status).toBe(429)
    expect(res.headers).toMatch(/retry-after: \d+/)
    expect(res.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } })
  })

  it.each(['/v1/chat/completions', '/v1/messagesx', '/v1/embeddings', '/v1/x/messages'])(
    'keeps OpenAI’s envelope on %s',
    async (path) => {
      const res = await post(path, { model: 'nope', messages: [], input: 'x' })
      expect(res.status).toBe(404)
      expect(res.json().error).toMatchObject({ code: 'model_not_found', type: 'invalid_request_error' })
    },
  )

  it.each([
    ['/v1/chat/completions', { model: 'm'.repeat(1_000_000), messages: [] }],
    ['/v1/messages', { model: 'm'.repeat(1_000_000), messages: [], max_tokens: 1 }],
    ['/v1/embeddings', { model: `a${'\u0001'.repeat(100_000)}`, input: 'x' }],
  ])('does not echo a 1 MB model name back whole on %s', async (path, body) => {
    const res = await post(path, body)
    expect(res.status).toBe(404)
    // A cut value is at most 200 characters, each at most 6 once JSON-escaped (\u0001).
    expect(res.body.length).toBeLessThan(2000)
  })
})
