import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCore, loadConfig, type Core } from '../../index.js'

/** The routes admin API on a listening core over a real data directory: nothing here starts an engine. */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-admin-routes-'))
const token = 'ctx_admin_routes-test-token-0123456789'
let core: Core
let base: string

async function open(): Promise<void> {
  const config = loadConfig({ flags: { config: path.join(dir, 'cortex.yaml'), dataDir: path.join(dir, 'data') }, env: {} })
  core = await createCore(config, { logger: pino({ level: 'silent' }), env: { CORTEX_ADMIN_TOKEN: token }, announce: () => {} })
  await core.http.listen({ port: 0, host: '127.0.0.1' })
  const address = core.http.server.address()
  base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
}

beforeAll(async () => {
  fs.writeFileSync(path.join(dir, 'tiny.gguf'), 'not started by these tests')
  fs.writeFileSync(
    path.join(dir, 'cortex.yaml'),
    `auth: { required: false }
models:
  - { name: long, aliases: [llama-long], engine: llamacpp, runtime: process, source: tiny.gguf, args: ["-c", "4096"] }
  - { name: short, engine: llamacpp, runtime: process, source: tiny.gguf, args: ["-c", "1024"] }
routes:
  - { name: from-file, targets: [{ model: long }] }
`,
  )
  await open()
})
afterAll(async () => {
  await core?.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

interface Answer {
  id?: string
  data?: Array<{ id: string; name: string; origin: string }>
  error?: { code: string; message: string; param?: string }
  [field: string]: unknown
}

const call = async (method: string, url: string, body?: unknown) => {
  const res = await fetch(`${base}/admin/api${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
  return { status: res.status, body: res.status === 204 ? null : ((await res.json()) as Answer) }
}

describe('/admin/api/routes on a listening core', () => {
  let id: string

  it('creates a route (aliases of models become their names), lists it beside the file’s, and /v1/models shows it', async () => {
    const made = await call('POST', '/routes', {
      name: 'chat',
      aliases: ['assistant'],
      targets: [{ model: 'llama-long', minPromptTokens: 500 }, { model: 'short' }],
      cache: { ttl: '10m' },
    })
    expect(made.status).toBe(201)
    expect(made.body).toMatchObject({
      name: 'chat',
      aliases: ['assistant'],
      targets: [{ model: 'long', minPromptTokens: 500 }, { model: 'short' }],
      fallback: null,
      cache: { ttlMs: 600_000, shared: false },
      origin: 'api',
    })
    id = made.body!.id!
    const listed = await call('GET', '/routes')
    expect(listed.body!.data!.map((r: { name: string; origin: string }) => [r.name, r.origin])).toEqual([
      ['from-file', 'config'],
      ['chat', 'api'],
    ])
    // The request path reads it at once: listed, and refused by its targets' contexts before any engine is woken.
    const models = (await (await fetch(`${base}/v1/models`)).json()) as { data: Array<{ id: string; context_length: number }> }
    expect(models.data.filter((m) => m.id === 'chat' || m.id === 'assistant')).toMatchObject([
      { id: 'chat', context_length: 4096 },
      { id: 'assistant', context_length: 4096 },
    ])
    const long = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'assistant', messages: [{ role: 'user', content: 'x'.repeat(40_000) }] }),
    })
    expect(long.status).toBe(400)
    expect(((await long.json()) as { error: { message: string } }).error.message).toMatch(/route "chat"/)
    expect(core.engines.statuses().map((s) => s.state)).toEqual(['stopped', 'stopped'])
  })

  it('refuses a name or alias a model or another route has (409), and a target that is no model (400)', async () => {
    const clash = await call('POST', '/routes', { name: 'llama-long', targets: [{ model: 'short' }] })
    expect([clash.status, clash.body!.error!.code]).toEqual([409, 'name_taken'])
    expect(clash.body!.error!.message).toMatch(/model "long"/)
    const alias = await call('POST', '/routes', { name: 'other', aliases: ['assistant'], targets: [{ model: 'short' }] })
    expect([alias.status, alias.body!.error!.code, alias.body!.error!.param]).toEqual([409, 'name_taken', 'aliases[0]'])
    const target = await call('POST', '/routes', { name: 'other', targets: [{ model: 'chat' }] })
    expect([target.status, target.body!.error!.code, target.body!.error!.param]).toEqual([
      400,
      'invalid_request',
      'targets[0].model',
    ])
    expect(target.body!.error!.message).toMatch(/targets name models, not routes/)
    const schema = await call('POST', '/routes', { name: 'other', targets: [] })
    expect(schema.status).toBe(400)
    // The other way round too: a model may not take a route's name or alias.
    const model = await call('POST', '/models', {
      name: 'x',
      aliases: ['assistant'],
      engine: 'llamacpp',
      runtime: 'process',
      source: path.join(dir, 'tiny.gguf'),
    })
    expect([model.status, model.body!.error!.code, model.body!.error!.param]).toEqual([409, 'name_taken', 'aliases[0]'])
    expect(model.body!.error!.message).toMatch(/route "chat"/)
  })

  it('edits and deletes its own routes, never the file’s (409)', async () => {
    const patched = await call('PATCH', `/routes/${id}`, { fallback: 'short', cache: null })
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({ name: 'chat', fallback: 'short' })
    expect(patched.body!.cache).toBeUndefined()
    const fileRoute = (await call('GET', '/routes')).body!.data![0] as { id: string }
    const edit = await call('PATCH', `/routes/${fileRoute.id}`, { fallback: 'short' })
    expect([edit.status, edit.body!.error!.code]).toEqual([409, 'route_managed_by_config'])
    expect((await call('DELETE', `/routes/${fileRoute.id}`)).status).toBe(409)
    expect((await call('GET', '/routes/route_nope')).status).toBe(404)
  })

  it('keeps the routes it made across a restart, and forgets one deleted', async () => {
    const second = await call('POST', '/routes', { name: 'batch', targets: [{ model: 'short' }] })
    await core.close()
    await open()
    const names = (await call('GET', '/routes')).body!.data!.map((r: { name: string }) => r.name)
    expect(names).toEqual(['from-file', 'chat', 'batch'])
    expect((await call('DELETE', `/routes/${second.body!.id}`)).status).toBe(204)
    expect((await call('GET', '/routes')).body!.data!.map((r: { name: string }) => r.name)).toEqual(['from-file', 'chat'])
  })
})
