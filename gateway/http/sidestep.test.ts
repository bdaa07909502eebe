import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
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
import { rawSend } from './raw-socket.test-support.js'

/** Issue 10, "No limit or scope sidestepped": every variant goes through a real listening gateway. */

const CHAT_ONLY = 'sk-cortex-chat-only-0123456789abcd'
const EMBED_ONLY = 'sk-cortex-embed-only-0123456789ab'
const TPM = 'sk-cortex-tpm-limited-0123456789a'

const upstream = new MockUpstream()
let app: FastifyInstance
let port: number
let usage: MemoryUsage
const log = memoryLogger()

beforeAll(async () => {
  await upstream.start()
  const keys = new MemoryKeys()
  keys.add(CHAT_ONLY, { name: 'chat-only', scopes: ['inference'] })
  keys.add(EMBED_ONLY, { name: 'embed-only', scopes: ['embeddings'] })
  keys.add(TPM, { name: 'tpm', limits: { rpm: null, tpm: 1000, concurrency: null, dailyTokens: null } })
  const registry = new FakeRegistry([modelDefinition({ id: 'id-qwen', name: 'qwen' })])
  registry.target = { replica: 0, apiRoot: '/v1', dispatcher: upstream.pool }
  usage = new MemoryUsage()
  app = buildApp({
    config: { ...testConfig(), auth: { required: true, allowLoopbackWithoutKey: false } },
    registry,
    usage,
    logger: log.logger,
    ...noKeys(keys),
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  port = (app.server.address() as { port: number }).port
})
afterAll(async () => {
  await app.close()
  await upstream.close()
})
beforeEach(() => {
  upstream.received.length = 0
  upstream.handler = (_req, res) => json(res, 200, { id: 'x', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } })
})

/** One request written byte for byte on a fresh socket; the status line and body of the answer. */
function raw(head: string, body = ''): Promise<{ status: number; body: string }> {
  const length = Buffer.byteLength(body)
  return rawSend(port, `${head.replace(/\n/g, '\r\n')}\r\ncontent-length: ${length}\r\nconnection: close\r\n\r\n${body}`)
}

const post = (path: string, key: string, body: unknown, extra = '') =>
  raw(
    `POST ${path} HTTP/1.1\nhost: 127.0.0.1\nauthorization: Bearer ${key}\ncontent-type: application/json${extra}`,
    JSON.stringify(body),
  )

const embed = { model: 'qwen', input: 'hi' }
const chat = { model: 'qwen', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 }

describe('scope by path', () => {
  it.each(['/v1/embeddings/', '/v1//embeddings', '/v1/%65mbeddings', '/v1/embeddings//', '/v1/./embeddings'])(
    'checks %s as embeddings, whatever its spelling',
    async (path) => {
      const res = await post(path, CHAT_ONLY, embed)
      expect(res.status, res.body).toBe(path.includes('/./') ? 404 : 403)
      if (res.status === 403) expect(JSON.parse(res.body).error.code).toBe('scope_not_allowed')
      expect(upstream.received).toHaveLength(0)
    },
  )

  it.each(['/v1/embeddings/', '/v1//embeddings', '/v1/%65mbeddings'])('forwards %s as /v1/embeddings', async (path) => {
    const res = await post(path, EMBED_ONLY, embed)
    expect(res.status, res.body).toBe(200)
    expect(upstream.received.map((r) => r.url)).toEqual(['/v1/embeddings'])
  })

  it.each([
    '/v1/embeddings;x',
    '/v1/embeddings%3Bx',
    '/v1/chat%2fcompletions',
    '/v1/../v1/embeddings',
    '/v1/x%5C..%5Cy',
    '/v1/embeddings#x',
    '/v1/embeddings%20',
    '/v1/embeddings%C3%A9',
    '/v1/embeddings%09',
    '/v1/Embeddings',
    '/v1/CHAT/completions',
    '/v1/messages/Count_Tokens',
    'http://127.0.0.1/v1/embeddings',
  ])('refuses %s, which no API defines, before any upstream sees it', async (path) => {
    const res = await post(path, CHAT_ONLY, chat)
    expect(res.status, res.body).toBeGreaterThanOrEqual(400)
    expect(res.status).toBeLessThan(500)
    expect(upstream.received).toHaveLength(0)
  })
})

describe('query strings', () => {
  it.each([
    ['/v1/chat/completions?api_key=sk-secret', '/v1/chat/completions'],
    ['/v1/chat/completions?trace=1&key=x', '/v1/chat/completions'],
    ['/v1/messages?beta=true&api_key=sk-secret', '/v1/messages?beta=true'],
    ['/v1/messages?beta=true&access_token=t', '/v1/messages?beta=true'],
    ['/v1/messages?beta=sk-secret-in-beta', '/v1/messages'],
    ['/v1/messages?beta=true&beta=sk-secret', '/v1/messages?beta=true'],
    ['/v1/messages?beta=true&beta=true', '/v1/messages?beta=true'],
  ])('forwards only what the upstream API defines: %s → %s', async (path, forwarded) => {
    const res = await post(path, CHAT_ONLY, chat)
    expect(res.status, res.body).toBe(200)
    expect(upstream.received.map((r) => r.url)).toEqual([forwarded])
  })
  it.each(['/v1/chat/completions?api_key=sk-secret-q', '/v1/chat/completions;api_key=sk-secret-p'])(
    'never logs a credential sent in the URL: %s',
    async (path) => {
      await post(path, CHAT_ONLY, chat)
      await eventually(() => expect(log.lines.some((l) => l.msg === 'request' && l.url === '/v1/chat/completions')).toBe(true))
      expect(JSON.stringify(log.lines)).not.toContain('sk-secret')
    },
  )
})

describe('repeated routing members and headers', () => {
  it.each([
    '{"model":"qwen","model":"other","messages":[]}',
    '{"model":"qwen","messages":[],"mod\\u0065l":"other"}',
    '{"model":"qwen","messages":[],"stream":false,"stream":true}',
    '{"model":"qwen","messages":[],"max_tokens":1,"max_tokens":900000}',
  ])('refuses %s with 400 duplicate_member, forwarding nothing', async (body) => {
    const res = await raw(
      `POST /v1/chat/completions HTTP/1.1\nhost: 127.0.0.1\nauthorization: Bearer ${CHAT_ONLY}\ncontent-type: application/json`,
      body,
    )
    expect(res.status, res.body).toBe(400)
    expect(JSON.parse(res.body).error.code).toBe('duplicate_member')
    expect(upstream.received).toHaveLength(0)
  })

  it.each([
    [`authorization: Bearer ${CHAT_ONLY}\nauthorization: Bearer ${EMBED_ONLY}`, 'authorization'],
    [`authorization: Bearer ${CHAT_ONLY}\nx-api-key: ${CHAT_ONLY}\nX-Api-Key: ${EMBED_ONLY}`, 'x-api-key'],
    [`authorization: Bearer ${CHAT_ONLY}\nHost: evil.example`, 'host'],
  ])('refuses a request that sends a header twice (%#): %s', async (headers, name) => {
    const res = await raw(
      `POST /v1/chat/completions HTTP/1.1\nhost: 127.0.0.1\n${headers}\ncontent-type: application/json`,
      JSON.stringify(chat),
    )
    expect(res.status, res.body).toBe(400)
    expect(JSON.parse(res.body).error).toMatchObject({ code: 'duplicate_header', param: name })
    expect(upstream.received).toHaveLength(0)
  })
})

describe('the tpm reservation reads what the engine will read', () => {
  // The key allows 1000 tokens a minute: `max_tokens: 200` passes, each variant below asks for more in another way.
  it.each([
    [{ ...chat, max_tokens: 5000 }, 429],
    [{ model: 'qwen', messages: [], max_completion_tokens: 5000 }, 429],
    [{ model: 'qwen', input: 'hi', max_output_tokens: 5000 }, 429],
    [{ ...chat, max_tokens: 400, n: 4 }, 429],
    [{ model: 'qwen', messages: [] }, 429],
    [{ ...chat, max_tokens: '200' }, 400],
    [{ ...chat, max_tokens: 200, n: '2' }, 400],
  ])('refuses %j', async (body, status) => {
    const path = 'max_output_tokens' in body ? '/v1/responses' : '/v1/chat/completions'
    const res = await post(path, TPM, body)
    expect(res.status, res.body).toBe(status)
    expect(JSON.parse(res.body).error.code).toBe(status === 429 ? 'rate_limit_exceeded' : 'invalid_request')
    if (status === 429) expect(JSON.parse(res.body).error.message).toMatch(/without a cap the model's context.*send a lower/)
    expect(upstream.received).toHaveLength(0)
  })

  it.each([
    ['/v1/completions', { model: 'qwen', prompt: Array(10).fill('hi'), max_tokens: 200 }],
    ['/v1/completions', { model: 'qwen', prompt: [[1, 2], [3], [4], [5], [6], [7]], max_tokens: 200 }],
  ])('refuses a batch of prompts on %s, each answered up to its cap: %j', async (path, body) => {
    const res = await post(path, TPM, body)
    expect(res.status, res.body).toBe(429)
    expect(upstream.received).toHaveLength(0)
  })

  it.each([
    ['/v1/chat/completions', { ...chat, max_tokens: 200 }],
    ['/v1/completions', { model: 'qwen', prompt: [1, 2, 3, 4, 5], max_tokens: 200 }],
    ['/v1/completions', { model: 'qwen', prompt: ['a', 'b'], max_tokens: 200 }],
    // Nothing is generated: the reservation is the prompt alone, whatever the context.
    ['/v1/embeddings', embed],
    ['/v1/messages/count_tokens', { model: 'qwen', messages: [{ role: 'user', content: 'hi' }] }],
  ])('admits %s %j, whose output fits', async (path, body) => {
    const res = await post(path, TPM, body)
    expect(res.status, res.body).toBe(200)
    expect(upstream.received).toHaveLength(1)
  })
})
