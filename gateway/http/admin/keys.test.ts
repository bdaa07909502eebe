import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createKey, hashKey } from '../../auth/keys.js'
import { openDatabase } from '../../store/open.js'
import type { AccountsDatabase } from '../../store/types.js'
import { errorHandler } from '../errors.js'
import { keyRoutes } from './keys.js'
import { validatorCompiler } from './validation.js'
import { newKey } from '../../auth/keys.test-support.js'

const NOW = Date.UTC(2025, 5, 1, 12)
const PASSWORD = 'correct horse battery'

let dir: string
let db: AccountsDatabase
let app: ReturnType<typeof keysApp>
let lines: string[]
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-admin-keys-'))
  db = openDatabase(dir, { now: () => NOW })
  lines = []
  app = keysApp()
})
afterEach(async () => {
  await app.close()
  db.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

/** The routes as the admin API mounts them (its auth hook aside), over a real database in a temp directory. */
function keysApp() {
  const fastify = Fastify({ logger: { level: 'info', stream: { write: (line: string) => void lines.push(line) } } })
  const typed = fastify.withTypeProvider<TypeBoxTypeProvider>()
  typed.setValidatorCompiler(validatorCompiler)
  typed.setErrorHandler(errorHandler(1024 * 1024))
  // The admin token's caller, as the auth hook sets it (members are session.test.ts's).
  typed.addHook('onRequest', (req, _reply, done) => {
    req.adminCaller = { kind: 'admin' }
    done()
  })
  keyRoutes(typed, { keys: db.keys, orgs: db.orgs, users: db.users, now: () => NOW })
  return typed
}

const post = (url: string, payload: object) => app.inject({ method: 'POST', url, payload })
const get = (url: string) => app.inject({ method: 'GET', url })

describe('admin keys', () => {
  it('creates a key: 201 with the key once, which the store finds by its hash; the log never has it', async () => {
    db.orgs.create('acme')
    const res = await post('/keys', { name: 'ci', models: ['qwen'], rpm: 60, expires: '30d', org: 'acme', ips: ['10.0.0.1'] })
    expect(res.statusCode).toBe(201)
    const { key, apiKey } = res.json()
    expect(key).toMatch(/^sk-cortex-[A-Za-z0-9_-]{43}$/)
    expect(apiKey).toEqual({
      id: expect.stringMatching(/^key_/),
      name: 'ci',
      prefix: `${key.slice(0, 14)}…`,
      org: 'acme',
      user: null,
      models: ['qwen'],
      scopes: ['inference', 'embeddings'],
      limits: { rpm: 60, tpm: null, concurrency: null, dailyTokens: null },
      ips: ['10.0.0.1/32'],
      tags: [],
      createdAt: '2025-06-01T12:00:00.000Z',
      expiresAt: '2025-07-01T12:00:00.000Z',
      revokedAt: null,
      state: 'active',
    })
    expect(db.keys.findByHash(hashKey(key))?.id).toBe(apiKey.id)
    expect(lines.join('')).toContain('API key created')
    expect(lines.join('')).not.toContain(key)
  })

  it('lists keys without their hashes, with the organization by name', async () => {
    const acme = db.orgs.create('acme')
    const { record } = createKey(db.keys, newKey({ name: 'team', orgId: acme.id, scopes: ['admin:read'], expiresAt: NOW - 1 }))
    const res = await get('/keys')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual([expect.objectContaining({ id: record.id, org: 'acme', state: 'expired' })])
    expect(res.body).not.toContain(record.hash)
  })

  it("lists one organization's keys with ?org= (name or id)", async () => {
    const acme = db.orgs.create('acme')
    await post('/keys', { name: 'in-acme', org: 'acme' })
    await post('/keys', { name: 'no-org' })
    expect((await get('/keys?org=acme')).json().map((k: { name: string }) => k.name)).toEqual(['in-acme'])
    expect((await get(`/keys?org=${acme.id}`)).json()).toHaveLength(1)
    expect((await get('/keys?org=globex')).json().error).toMatchObject({ code: 'invalid_request', param: 'org' })
  })

  it('creates a user’s key in the user’s organization, lists it with the user’s name, and one user’s with ?user=', async () => {
    const acme = db.orgs.create('acme')
    const ann = db.users.create({ orgId: acme.id, name: 'ann', role: 'member', password: PASSWORD })
    const res = await post('/keys', { name: 'ann-laptop', user: 'ann' })
    expect(res.statusCode).toBe(201)
    expect(res.json().apiKey).toMatchObject({ name: 'ann-laptop', org: 'acme', user: 'ann' })
    expect(db.keys.get('ann-laptop')).toMatchObject({ orgId: acme.id, userId: ann.id })
    await post('/keys', { name: 'acme-ci', org: 'acme' })
    const all = (await get('/keys')).json().map((k: { name: string; user: string | null }) => [k.name, k.user])
    expect(all).toEqual([
      ['acme-ci', null],
      ['ann-laptop', 'ann'],
    ])
    expect((await get('/keys?user=ann')).json().map((k: { name: string }) => k.name)).toEqual(['ann-laptop'])
    expect((await get(`/keys?user=${ann.id}&org=acme`)).json()).toHaveLength(1)
    const unknown = await get('/keys?user=bob')
    expect(unknown.statusCode).toBe(400)
    expect(unknown.json().error).toMatchObject({ code: 'invalid_request', param: 'user' })
  })

  it('refuses a user’s key in another organization, and an unknown user, saying what to do', async () => {
    const acme = db.orgs.create('acme')
    db.orgs.create('beta')
    db.users.create({ orgId: acme.id, name: 'ann', role: 'member', password: PASSWORD })
    expect((await post('/keys', { name: 'ci', user: 'ann', org: 'beta' })).json().error).toMatchObject({
      code: 'invalid_request',
      param: 'org',
      message: expect.stringContaining(`user "ann" is in "acme", not "beta": a key takes its user's organization`),
    })
    expect((await post('/keys', { name: 'ci', user: 'bob' })).json().error).toMatchObject({
      code: 'invalid_request',
      param: 'user',
      message: expect.stringContaining('POST /admin/api/users'),
    })
    expect(db.keys.list()).toEqual([])
  })

  it.each([
    [{ name: 'ci', scopes: ['inference', 'inference'] }, 'scopes', 'scopes: "inference" is listed twice'],
    [{ name: 'ci', expires: 'tomorrow' }, 'expires', 'expires: invalid duration "tomorrow"'],
    [{ name: 'ci', ips: ['10.0.0.0/40'] }, 'ips', 'ips: "10.0.0.0/40" has an invalid prefix length'],
    [{ name: 'ci', org: 'globex' }, 'org', 'org: no organization "globex" (there are no organizations yet)'],
    [{ name: 'ci', key: 'too-short' }, 'key', 'key: a key must have at least 20 characters'],
    [{ name: 'ci', rpm: 0 }, 'rpm', 'rpm: '],
    [{ name: 'ci', secret: 'x' }, 'secret', 'unknown field "secret"'],
    [{}, 'name', 'name'],
  ])('refuses %j with 400 at %s and creates nothing', async (body, param, message) => {
    const res = await post('/keys', body)
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toMatchObject({ code: 'invalid_request', param, message: expect.stringContaining(message) })
    expect(db.keys.list()).toEqual([])
  })

  it('refuses a taken name and a taken key with 400 at name and key', async () => {
    const key = 'operator-chosen-key-0123456789'
    expect((await post('/keys', { name: 'ci', key })).statusCode).toBe(201)
    const name = await post('/keys', { name: 'ci' })
    expect(name.json().error).toMatchObject({
      code: 'invalid_request',
      param: 'name',
      message: 'an API key named "ci" already exists',
    })
    const same = await post('/keys', { name: 'other', key })
    expect(same.statusCode).toBe(400)
    expect(same.json().error).toMatchObject({ code: 'invalid_request', param: 'key' })
    expect(same.body).not.toContain(key)
  })

  it('revokes by id or name and answers the revoked view; an unknown key is 404', async () => {
    const created = (await post('/keys', { name: 'ci' })).json()
    const res = await app.inject({ method: 'DELETE', url: `/keys/${created.apiKey.id}` })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ id: created.apiKey.id, state: 'revoked', revokedAt: '2025-06-01T12:00:00.000Z' })
    expect(db.keys.findByHash(hashKey(created.key))?.revokedAt).toBe(NOW)
    expect((await app.inject({ method: 'DELETE', url: '/keys/ci' })).json().state).toBe('revoked')
    const unknown = await app.inject({ method: 'DELETE', url: '/keys/nope' })
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json().error).toMatchObject({ code: 'not_found', message: 'no API key with id or name "nope"' })
  })
})

describe('admin orgs', () => {
  it('creates organizations (201) and lists them by name', async () => {
    const res = await post('/orgs', { name: 'globex' })
    expect(res.statusCode).toBe(201)
    expect(res.json()).toEqual({ id: expect.stringMatching(/^org_/), name: 'globex', createdAt: '2025-06-01T12:00:00.000Z' })
    await post('/orgs', { name: 'acme' })
    expect((await get('/orgs')).json().map((o: { name: string }) => o.name)).toEqual(['acme', 'globex'])
  })

  it('refuses a taken name, and a body with other fields', async () => {
    await post('/orgs', { name: 'acme' })
    expect((await post('/orgs', { name: 'acme' })).json().error).toMatchObject({
      param: 'name',
      message: 'an organization named "acme" already exists',
    })
    expect((await post('/orgs', { name: 'b', id: 'org_x' })).json().error).toMatchObject({ code: 'invalid_request', param: 'id' })
  })
})

describe('admin users', () => {
  it('creates a user in an organization (201) without showing the password or its hash', async () => {
    db.orgs.create('acme')
    const res = await post('/users', { org: 'acme', name: 'ann', role: 'admin', password: PASSWORD })
    expect(res.statusCode).toBe(201)
    expect(res.json()).toEqual({
      id: expect.stringMatching(/^usr_/),
      name: 'ann',
      org: 'acme',
      role: 'admin',
      createdAt: '2025-06-01T12:00:00.000Z',
    })
    expect(res.body).not.toMatch(/scrypt|horse/)
    expect(lines.join('')).not.toContain(PASSWORD)
    expect(db.users.verify('ann', PASSWORD)?.name).toBe('ann')
  })

  it('lists every user, or one organization’s by name or id', async () => {
    const acme = db.orgs.create('acme')
    const beta = db.orgs.create('beta')
    db.users.create({ orgId: acme.id, name: 'zed', role: 'member', password: PASSWORD })
    db.users.create({ orgId: beta.id, name: 'ann', role: 'admin', password: PASSWORD })
    const names = async (url: string) => (await get(url)).json().map((u: { name: string; org: string }) => `${u.name}@${u.org}`)
    expect(await names('/users')).toEqual(['ann@beta', 'zed@acme'])
    expect(await names('/users?org=acme')).toEqual(['zed@acme'])
    expect(await names(`/users?org=${beta.id}`)).toEqual(['ann@beta'])
    const unknown = await get('/users?org=globex')
    expect(unknown.statusCode).toBe(400)
    expect(unknown.json().error).toMatchObject({ param: 'org', message: expect.stringContaining('existing: "acme", "beta"') })
  })

  it.each([
    [{ org: 'acme', name: 'ann', role: 'admin', password: 'short' }, 'password'],
    [{ org: 'acme', name: 'ann', role: 'owner', password: PASSWORD }, 'role'],
    [{ org: 'globex', name: 'ann', role: 'admin', password: PASSWORD }, 'org'],
    [{ org: 'acme', name: ' ann', role: 'admin', password: PASSWORD }, 'name'],
  ])('refuses %j with 400 at %s', async (body, param) => {
    db.orgs.create('acme')
    const res = await post('/users', body)
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toMatchObject({ code: 'invalid_request', param })
    expect(res.body).not.toContain(PASSWORD)
    expect(db.users.list()).toEqual([])
  })
})
