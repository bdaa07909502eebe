import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { ServerResponse } from 'node:http'
import Database from 'better-sqlite3'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createMemoryLimiter } from '../auth/limits.js'
import type { CachePolicy } from '../contract/cache.js'
import { modelDefinition } from '../contract/model.test-support.js'
import type { RouteDefinition } from '../contract/routes.js'
import { buildApp } from '../http/app.js'
import {
  FakeRegistry,
  MemoryKeys,
  MemoryUsage,
  MockUpstream,
  json,
  memoryLogger,
  testConfig,
} from '../http/fakes.test-support.js'
import { routeTable } from '../router/route.js'
import { createSqliteCache } from '../store/cache.js'
import { migrate } from '../store/migrations.js'
import type { CacheStore } from './cache-store.js'

/** The completion cache through the whole request path, on a real SQLite cache and a mock engine that counts asks. */

const upstream = new MockUpstream()
beforeAll(() => upstream.start())
afterAll(() => upstream.close())

const policy: CachePolicy = { ttlMs: 60_000, maxBytes: 1 << 20, shared: false }
let dir: string
let db: Database.Database
let cache: CacheStore
let usage: MemoryUsage
let registry: FakeRegistry
let keys: MemoryKeys

function sse(res: ServerResponse, model: string, includeUsage: boolean) {
  const base = { id: 'c1', object: 'chat.completion.chunk', created: 1, model }
  const frames = [
    { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' }, finish_reason: null }] },
    { ...base, choices: [{ index: 0, delta: { content: 'lo' }, finish_reason: null }] },
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
    ...(includeUsage ? [{ ...base, choices: [], usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 } }] : []),
  ]
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  res.end(frames.map((f) => `data: ${JSON.stringify(f)}\n\n`).join('') + 'data: [DONE]\n\n')
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-cache-path-'))
  db = new Database(path.join(dir, 'cortex.db'))
  migrate(db, { dataDir: dir, now: Date.now })
  cache = createSqliteCache(db, pino({ level: 'silent' }))
  upstream.received.length = 0
  // As llama-server does: the whole answer, or its chunks with usage when asked for.
  upstream.handler = (req, res) => {
    const body = JSON.parse(req.body.toString()) as {
      model: string
      stream?: boolean
      stream_options?: { include_usage?: boolean }
    }
    if (body.stream === true) return sse(res, body.model, body.stream_options?.include_usage === true)
    json(res, 200, {
      id: 'c1',
      object: 'chat.completion',
      created: 1,
      model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 },
    })
  }
  usage = new MemoryUsage()
  keys = new MemoryKeys()
  registry = new FakeRegistry([
    modelDefinition({ id: 'id-cached', name: 'cached', cache: policy }),
    modelDefinition({ id: 'id-plain', name: 'plain' }),
    modelDefinition({ id: 'id-small', name: 'small' }),
  ])
  registry.target = { replica: 0, apiRoot: '/v1', dispatcher: upstream.pool }
})
afterEach(() => {
  db.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

const route: RouteDefinition = {
  name: 'chat',
  aliases: [],
  targets: [{ model: 'small' }],
  fallback: null,
  cache: policy,
  origin: 'config',
}

function gateway() {
  const { logger } = memoryLogger()
  const limiter = createMemoryLimiter({ usedToday: new Map() })
  const config = { ...testConfig(), auth: { required: true, allowLoopbackWithoutKey: false } }
  return buildApp({ config, registry, usage, logger, keys, limiter, cache, routes: routeTable([route]) })
}

type App = ReturnType<typeof gateway>
const body = (o: Record<string, unknown> = {}) => ({
  model: 'cached',
  temperature: 0,
  max_tokens: 8,
  messages: [{ role: 'user', content: 'hi' }],
  ...o,
})
const ask = (app: App, secret: string, payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/v1/chat/completions', payload, headers: { authorization: `Bearer ${secret}`, ...headers } })

describe('the completion cache on /v1', () => {
  it('answers an identical deterministic request from the cache, in either shape, without asking the engine again', async () => {
    keys.add('sk-a')
    const app = gateway()
    const first = await ask(app, 'sk-a', body())
    const again = await ask(app, 'sk-a', body())
    expect([first.headers['x-cortex-cache'], again.headers['x-cortex-cache']]).toEqual(['miss', 'hit'])
    expect(again.json()).toEqual(first.json())
    // The same body streamed: one delta with the whole message, its finish, the recorded usage as asked, [DONE].
    const streamed = await ask(app, 'sk-a', body({ stream: true, stream_options: { include_usage: true } }))
    expect(streamed.headers).toMatchObject({ 'x-cortex-cache': 'hit', 'content-type': 'text/event-stream' })
    const frames = streamed.body.split('\n\n').filter(Boolean)
    expect(frames.at(-1)).toBe('data: [DONE]')
    const events = frames
      .slice(0, -1)
      .map((f) => JSON.parse(f.slice(6)) as { choices: Array<{ delta: { content?: string } }>; usage?: unknown })
    expect(events.map((e) => e.choices[0]?.delta.content ?? null)).toEqual(['Hello', null, null])
    expect(events.at(-1)!.usage).toEqual({ prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 })
    expect(upstream.received).toHaveLength(1)
    expect(usage.rows.map((r) => [r.cache, r.promptTokens, r.status])).toEqual([
      ['miss', 7, 200],
      ['hit', null, 200],
      ['hit', null, 200],
    ])
  })

  it('a kept stream answers a stream frame by frame (usage only if asked) and a whole request as one answer', async () => {
    keys.add('sk-a')
    const app = gateway()
    const miss = await ask(app, 'sk-a', body({ seed: 1, stream: true }))
    expect(miss.headers['x-cortex-cache']).toBe('miss')
    const hit = await ask(app, 'sk-a', body({ seed: 1, stream: true }))
    expect(hit.headers['x-cortex-cache']).toBe('hit')
    // The engine's frames as they came, without the usage chunk the gateway asked for: the client did not.
    expect(hit.body).toBe(miss.body)
    expect(hit.body).not.toContain('"usage"')
    const whole = await ask(app, 'sk-a', body({ seed: 1 }))
    expect(whole.headers['x-cortex-cache']).toBe('hit')
    expect(whole.json()).toMatchObject({
      object: 'chat.completion',
      model: 'cached',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 },
    })
    expect(upstream.received).toHaveLength(1)
  })

  it('is skipped for sampled requests unless forced, for keys that opted out, and for models without a cache', async () => {
    keys.add('sk-a')
    keys.add('sk-out', { cache: false })
    const app = gateway()
    const sampled = body({ temperature: 0.8 })
    expect((await ask(app, 'sk-a', sampled)).headers['x-cortex-cache']).toBeUndefined()
    expect((await ask(app, 'sk-a', sampled, { 'x-cortex-cache': 'force' })).headers['x-cortex-cache']).toBe('miss')
    expect((await ask(app, 'sk-a', sampled, { 'x-cortex-cache': 'force' })).headers['x-cortex-cache']).toBe('hit')
    expect((await ask(app, 'sk-out', body())).headers['x-cortex-cache']).toBeUndefined()
    expect((await ask(app, 'sk-out', body())).headers['x-cortex-cache']).toBeUndefined()
    expect((await ask(app, 'sk-a', body({ model: 'plain' }))).headers['x-cortex-cache']).toBeUndefined()
    expect(upstream.received).toHaveLength(5)
  })

  it('keeps organizations apart unless the cache is shared, and a changed definition is a new revision', async () => {
    keys.add('sk-a', { orgId: 'org_a' })
    keys.add('sk-b', { orgId: 'org_b' })
    const app = gateway()
    expect((await ask(app, 'sk-a', body())).headers['x-cortex-cache']).toBe('miss')
    expect((await ask(app, 'sk-b', body())).headers['x-cortex-cache']).toBe('miss')
    registry.models[0] = modelDefinition({ id: 'id-cached', name: 'cached', cache: { ...policy, shared: true } })
    expect((await ask(app, 'sk-a', body())).headers['x-cortex-cache']).toBe('miss')
    expect((await ask(app, 'sk-b', body())).headers['x-cortex-cache']).toBe('hit')
    registry.models[0] = modelDefinition({
      id: 'id-cached',
      name: 'cached',
      args: ['-c', '512'],
      cache: { ...policy, shared: true },
    })
    expect((await ask(app, 'sk-b', body())).headers['x-cortex-cache']).toBe('miss')
  })

  it('a hit counts for rpm but spends no tokens against tpm', async () => {
    keys.add('sk-l', { limits: { rpm: 10, tpm: 200, concurrency: null, dailyTokens: null } })
    const app = gateway()
    const miss = await ask(app, 'sk-l', body())
    const hit = await ask(app, 'sk-l', body())
    expect(hit.headers['x-cortex-cache']).toBe('hit')
    expect(Number(hit.headers['x-ratelimit-remaining-requests'])).toBe(Number(miss.headers['x-ratelimit-remaining-requests']) - 1)
    // The miss reserved its tokens and was charged its 9; the hit reserved none.
    expect(hit.headers['x-ratelimit-remaining-tokens']).toBe(String(200 - 9))
  })

  it('a route’s cache answers under the route’s name, whichever target served', async () => {
    keys.add('sk-a')
    const app = gateway()
    const miss = await ask(app, 'sk-a', body({ model: 'chat' }))
    const hit = await ask(app, 'sk-a', body({ model: 'chat' }))
    expect([miss.headers['x-cortex-cache'], hit.headers['x-cortex-cache']]).toEqual(['miss', 'hit'])
    expect([miss.json().model, hit.json().model]).toEqual(['chat', 'chat'])
    expect(usage.rows.map((r) => [r.route, r.model, r.cache])).toEqual([
      ['chat', 'small', 'miss'],
      ['chat', 'small', 'hit'],
    ])
  })
})
