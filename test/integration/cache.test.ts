import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createCore, loadConfig, type Core } from '../../gateway/index.js'
import { createRedisCache } from '../../gateway/proxy/cache-redis.js'
import { cacheStoreCases } from '../../gateway/proxy/cache-store-cases.test-support.js'

/** Issue 14's completion cache on a real llama-server engine, in SQLite and in a real redis-server. */

const redis = inject('redis')
const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-cache-'))
const cores: Core[] = []

/** A core over its own data directory with one cached model; `cache` is the top-level section, if any. */
async function core(name: string, cache = ''): Promise<Core> {
  const file = path.join(dir, `${name}.yaml`)
  writeFileSync(
    file,
    `engines: { llamaServer: ${JSON.stringify(inject('llamaServer'))} }
auth: { required: false }
${cache}
models:
  - name: tiny
    engine: llamacpp
    runtime: process
    source: ${JSON.stringify(inject('tinyModel'))}
    args: ["-c", "512", "-np", "1"]
    cache: { ttl: 10m, maxBytes: 1MiB }
`,
  )
  const config = loadConfig({ flags: { config: file, dataDir: path.join(dir, name) }, env: {} })
  const made = await createCore(config, { logger: pino({ level: 'silent' }), env: {}, announce: () => {} })
  cores.push(made)
  return made
}

afterAll(async () => {
  await Promise.all(cores.map((c) => c.close()))
  rmSync(dir, { recursive: true, force: true })
})

const body = (content: string, extra: Record<string, unknown> = {}) => ({
  model: 'tiny',
  temperature: 0,
  max_tokens: 8,
  messages: [{ role: 'user', content }],
  ...extra,
})
const ask = (c: Core, payload: Record<string, unknown>) => c.http.inject({ method: 'POST', url: '/v1/chat/completions', payload })
const state = (c: Core) => c.engines.statuses().find((s) => s.name === 'tiny')!.state

/** The text of an SSE answer: every chunk's delta content, joined. */
function streamedText(sse: string): string {
  return sse
    .split('\n\n')
    .filter((f) => f.startsWith('data: {'))
    .map((f) => (JSON.parse(f.slice(6)) as { choices: Array<{ delta?: { content?: string } }> }).choices[0]?.delta?.content ?? '')
    .join('')
}

describe('the completion cache on a real llama-server', () => {
  let sqlite: Core
  beforeAll(async () => {
    sqlite = await core('sqlite')
  })

  it('answers identical bodies from the cache after the engine answered once, whole and streamed', async () => {
    const miss = await ask(sqlite, body('Say hello'))
    expect(miss.statusCode).toBe(200)
    expect(miss.headers['x-cortex-cache']).toBe('miss')
    const text = (miss.json() as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content
    expect(text.length).toBeGreaterThan(0)
    const hit = await ask(sqlite, body('Say hello'))
    expect(hit.headers['x-cortex-cache']).toBe('hit')
    expect(hit.json()).toEqual(miss.json())
    // The same body streamed: the kept answer as chunks.
    const streamedHit = await ask(sqlite, body('Say hello', { stream: true }))
    expect(streamedHit.headers).toMatchObject({ 'x-cortex-cache': 'hit', 'content-type': 'text/event-stream' })
    expect(streamedText(streamedHit.body)).toBe(text)

    const streamedMiss = await ask(sqlite, body('Count to three', { stream: true }))
    expect(streamedMiss.headers['x-cortex-cache']).toBe('miss')
    const again = await ask(sqlite, body('Count to three', { stream: true }))
    expect(again.headers['x-cortex-cache']).toBe('hit')
    // The engine's own frames, replayed (their usage chunk held back: the client did not ask for it).
    expect(again.body).toBe(streamedMiss.body)
    const whole = await ask(sqlite, body('Count to three'))
    expect(whole.headers['x-cortex-cache']).toBe('hit')
    expect((whole.json() as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe(
      streamedText(streamedMiss.body),
    )

    const db = new Database(path.join(dir, 'sqlite', 'cortex.db'), { readonly: true })
    const rows = db.prepare('SELECT cache, prompt_tokens, stream FROM usage ORDER BY id').all()
    db.close()
    expect(rows).toEqual([
      { cache: 'miss', prompt_tokens: expect.any(Number), stream: 0 },
      { cache: 'hit', prompt_tokens: null, stream: 0 },
      { cache: 'hit', prompt_tokens: null, stream: 1 },
      { cache: 'miss', prompt_tokens: expect.any(Number), stream: 1 },
      { cache: 'hit', prompt_tokens: null, stream: 1 },
      { cache: 'hit', prompt_tokens: null, stream: 0 },
    ])
    const metrics = await sqlite.metrics.registry.getSingleMetricAsString('cortex_cache_requests_total')
    expect(metrics).toContain('cortex_cache_requests_total{model="tiny",result="hit"} 4')
    expect(metrics).toContain('cortex_cache_requests_total{model="tiny",result="miss"} 2')
  })

  it('a hit never wakes a stopped engine', async () => {
    await sqlite.engines.stop('tiny')
    expect(state(sqlite)).toBe('stopped')
    const hit = await ask(sqlite, body('Say hello', { stream: true }))
    expect([hit.statusCode, hit.headers['x-cortex-cache']]).toEqual([200, 'hit'])
    expect(state(sqlite)).toBe('stopped')
  })
})

describe.skipIf(redis.url === null)(`the completion cache in Redis${redis.skip ? ` (skipped: ${redis.skip})` : ''}`, () => {
  cacheStoreCases(() => createRedisCache({ url: redis.url!, logger: pino({ level: 'silent' }) }))

  it('is shared by two gateways: the second answers from the first one’s answer without waking its engine', async () => {
    const section = `cache: { redis: "${redis.url}" }`
    const [a, b] = [await core('redis-a', section), await core('redis-b', section)]
    const prompt = `Name a colour ${Date.now()}`
    const miss = await ask(a, body(prompt))
    expect(miss.headers['x-cortex-cache']).toBe('miss')
    const hit = await ask(b, body(prompt))
    expect(hit.headers['x-cortex-cache']).toBe('hit')
    expect(hit.json()).toEqual(miss.json())
    expect(state(b)).toBe('stopped')
  })
})
