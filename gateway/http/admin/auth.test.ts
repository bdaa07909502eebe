import { describe, expect, it } from 'vitest'
import { buildApp } from '../app.js'
import { FakeRegistry, MemoryUsage, eventually, memoryLogger, noKeys, testConfig } from '../fakes.test-support.js'
import type { NewKey } from '../../auth/types.js'
import { TOKEN, adminApp, auth } from './fakes.test-support.js'
import { createKey } from '../../auth/keys.js'
import { newKey } from '../../auth/keys.test-support.js'

describe('admin API auth', () => {
  it.each([
    ['no Authorization header', {}],
    ['a wrong token', { authorization: 'Bearer ctx_admin_wrong' }],
    ['the token with a suffix', { authorization: `Bearer ${TOKEN}x` }],
    ['another scheme', { authorization: `Basic ${TOKEN}` }],
    ['a bare token', { authorization: TOKEN }],
  ])('answers %s with 401 invalid_api_key saying where the token is', async (_name, headers) => {
    const { app, models } = adminApp()
    const res = await app.inject({ method: 'POST', url: '/admin/api/models/id-api/stop', headers })
    expect(res.statusCode).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="cortex admin"')
    expect(res.json().error).toMatchObject({ code: 'invalid_api_key', type: 'invalid_request_error', param: null })
    expect(res.json().error.message).toMatch(/CORTEX_ADMIN_TOKEN or <data-dir>\/admin-token/)
    expect(models.calls).toEqual([])
  })

  it('lets the admin token through, whatever the case of "Bearer"', async () => {
    const { app } = adminApp()
    expect((await app.inject({ url: '/admin/api/models', headers: auth })).statusCode).toBe(200)
    expect((await app.inject({ url: '/admin/api/models', headers: { authorization: `bearer ${TOKEN}` } })).statusCode).toBe(200)
  })

  it('asks for the token before saying a route does not exist, then answers 404 not_found', async () => {
    const { app } = adminApp()
    expect((await app.inject('/admin/api/nope')).statusCode).toBe(401)
    const res = await app.inject({ method: 'PUT', url: '/admin/api/models?x=1', headers: auth })
    expect(res.statusCode).toBe(404)
    expect(res.json().error).toMatchObject({ code: 'not_found', message: 'no admin API route for PUT /admin/api/models' })
  })

  it('never writes the token, right or wrong, to the log', async () => {
    const { app, lines, models } = adminApp()
    models.startImpl = () => Promise.reject(new TypeError('boom'))
    await app.inject({ url: '/admin/api/models', headers: auth })
    await app.inject({ url: '/admin/api/models', headers: { authorization: 'Bearer ctx_admin_guess' } })
    expect((await app.inject({ method: 'POST', url: '/admin/api/models/id-api/start', headers: auth })).statusCode).toBe(500)
    await eventually(() => expect(lines.filter((l) => l.msg === 'request')).toHaveLength(3))
    expect(lines.find((l) => l.msg === 'request failed')).toBeDefined()
    expect(JSON.stringify(lines)).not.toMatch(new RegExp(`${TOKEN}|ctx_admin_guess|authorization`, 'i'))
  })

  it('is not served when buildApp gets no admin option', async () => {
    const app = buildApp({
      config: testConfig(),
      registry: new FakeRegistry([]),
      usage: new MemoryUsage(),
      logger: memoryLogger().logger,
      ...noKeys(),
    })
    const res = await app.inject({ url: '/admin/api/models', headers: auth })
    expect(res.statusCode).toBe(404)
    expect(res.json().error.code).toBe('not_found')
  })
})

describe('admin API with an admin:read API key', () => {
  /** The admin API over the cfg and api models, with keys made in its real (in-memory) key repo. */
  function withKeys() {
    const h = adminApp()
    const key = (spec: Partial<NewKey>) =>
      createKey(h.accounts.keys, newKey({ name: `k${Math.random()}`, scopes: ['admin:read'], ...spec })).secret
    return { ...h, key }
  }
  const as = (key: string) => ({ authorization: `Bearer ${key}` })

  it('reads model states, only of the models the key may use, and usage', async () => {
    const { app, key, accounts } = withKeys()
    const acme = accounts.orgs.create('acme')
    const reader = key({ models: ['api'], orgId: acme.id })
    const list = await app.inject({ url: '/admin/api/models', headers: as(reader) })
    expect(list.statusCode).toBe(200)
    expect(list.json().data.map((m: { name: string }) => m.name)).toEqual(['api'])
    // Names and states only: a definition's env, args and paths, and engine logs, are the admin's.
    expect(Object.keys(list.json().data[0]).sort()).toEqual(['aliases', 'engine', 'id', 'name', 'runtime', 'status'])
    expect(Object.keys(list.json().data[0].status).sort()).toEqual(['contextLength', 'lastUsedAt', 'queued', 'replicas', 'state'])
    expect((await app.inject({ url: '/admin/api/models/id-api', headers: as(reader) })).statusCode).toBe(200)
    expect((await app.inject({ url: '/admin/api/models/id-cfg', headers: as(reader) })).statusCode).toBe(404)
    // One row of its organization's and one of another's: the key's report holds its own only.
    const insert = accounts.db.prepare(
      `INSERT INTO usage (ts, request_id, org_id, model, endpoint, status, stream, total_ms, bytes_in, bytes_out)
       VALUES (?, ?, ?, ?, '/v1/chat/completions', 200, 0, 1, 0, 0)`,
    )
    insert.run(Date.now() - 1000, 'r1', acme.id, 'api')
    insert.run(Date.now() - 1000, 'r2', 'org_other', 'cfg')
    const usage = await app.inject({ url: '/admin/api/usage', headers: { 'x-api-key': reader } })
    expect(usage.statusCode).toBe(200)
    expect(usage.json().groups.map((g: { key: string; requests: number }) => [g.key, g.requests])).toEqual([['api', 1]])
  })

  it('may not change anything, read anything else, or come without the scope', async () => {
    const { app, key, models } = withKeys()
    const reader = key({})
    for (const [method, url] of [
      ['POST', '/admin/api/models/id-api/stop'],
      ['GET', '/admin/api/keys'],
      ['GET', '/admin/api/settings'],
      ['GET', '/admin/api/models/id-api/logs'],
    ] as const) {
      const res = await app.inject({ method, url, headers: as(reader) })
      expect(res.statusCode, url).toBe(403)
      expect(res.json().error.code).toBe('scope_not_allowed')
    }
    const inference = await app.inject({ url: '/admin/api/models', headers: as(key({ scopes: ['inference'] })) })
    expect(inference.statusCode).toBe(403)
    expect(inference.json().error.message).toContain('"admin:read"')
    expect(models.calls).toEqual([])
  })

  it('refuses a revoked or expired key, and one from outside its allowlist', async () => {
    const { app, key, accounts } = withKeys()
    const revoked = key({ name: 'gone' })
    accounts.keys.revoke('gone')
    expect((await app.inject({ url: '/admin/api/models', headers: as(revoked) })).statusCode).toBe(401)
    expect((await app.inject({ url: '/admin/api/models', headers: as(key({ expiresAt: 1 })) })).statusCode).toBe(401)
    const lan = key({ ips: ['10.0.0.0/8'] })
    const res = await app.inject({ url: '/admin/api/models', headers: as(lan), remoteAddress: '192.0.2.1' })
    expect(res.json().error.code).toBe('ip_not_allowed')
  })
})
