import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Database from 'better-sqlite3'
import Fastify from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AdminCaller } from '../../auth/types.js'
import type { UsageReport } from '../../contract/index.js'
import { migrate } from '../../store/migrations.js'
import { usageCsv, usageReport } from '../../store/usage-report.js'
import { errorHandler } from '../errors.js'
import { usageRoutes } from './usage.js'
import { validatorCompiler } from './validation.js'
import { createOrgRepo } from '../../store/orgs.js'
import { keyRecord } from '../../auth/keys.test-support.js'

const NOW = Date.UTC(2025, 1, 1, 12, 0, 0)
const DAY = 86_400_000

let dir: string
let db: Database.Database
let caller: AdminCaller
let app: ReturnType<typeof usageApp>
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-admin-usage-'))
  db = new Database(path.join(dir, 'cortex.db'))
  migrate(db, { dataDir: dir, now: Date.now })
  caller = { kind: 'admin' }
  app = usageApp()
})
afterEach(async () => {
  await app.close()
  db.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

/** The route as the admin API mounts it, with the caller the auth hook would set, over a real database. */
function usageApp() {
  const fastify = Fastify().withTypeProvider<TypeBoxTypeProvider>()
  fastify.setValidatorCompiler(validatorCompiler)
  fastify.setErrorHandler(errorHandler(1024 * 1024))
  fastify.decorateRequest('adminCaller', null as never)
  fastify.addHook('onRequest', (req, _reply, done) => {
    req.adminCaller = caller
    done()
  })
  usageRoutes(fastify, { report: (q) => usageReport(db, q), orgs: createOrgRepo(db, Date.now), now: () => NOW })
  return fastify
}

let seq = 0
function insert(row: { ts: number; model?: string; keyId?: string | null; orgId?: string | null; totalMs?: number }): void {
  seq += 1
  db.prepare(
    `INSERT INTO usage (ts, request_id, key_id, org_id, model, endpoint, status, stream, total_ms, bytes_in, bytes_out)
     VALUES (?, ?, ?, ?, ?, '/v1/chat/completions', 200, 0, ?, 0, 0)`,
  ).run(row.ts, `req-${seq}`, row.keyId ?? null, row.orgId ?? null, row.model ?? 'm', row.totalMs ?? 1)
}

function keyCaller(id: string, orgId: string | null): AdminCaller {
  return { kind: 'key', key: keyRecord({ id, name: id, orgId, scopes: ['admin:read'] }) }
}

const get = (query: string) => app.inject({ method: 'GET', url: `/usage${query}` })
const json = async (query: string) => {
  const res = await get(query)
  expect(res.statusCode, res.body).toBe(200)
  return res.json<UsageReport>()
}
const groups = (r: UsageReport) => r.groups.map((g) => [g.key, g.requests])

describe('GET /usage', () => {
  it('reports the last 30 days up to now by model when nothing is asked', async () => {
    for (const ts of [NOW - 30 * DAY - 1, NOW - 30 * DAY, NOW - 1, NOW]) insert({ ts })
    const r = await json('')
    expect(r).toMatchObject({ groupBy: 'model', from: '2025-01-02T12:00:00.000Z', to: '2025-02-01T12:00:00.000Z' })
    expect(groups(r)).toEqual([['m', 2]])
  })

  it('takes the 30 days before `to` when only `to` is given, and up to now when only `from` is', async () => {
    expect(await json('?to=2025-01-31')).toMatchObject({ from: '2025-01-01T00:00:00.000Z', to: '2025-01-31T00:00:00.000Z' })
    expect(await json('?from=2025-01-31')).toMatchObject({ from: '2025-01-31T00:00:00.000Z', to: '2025-02-01T12:00:00.000Z' })
  })

  it.each([
    ['1735689600000', '2025-01-01T00:00:00.000Z'],
    ['2025-01-01T10:30Z', '2025-01-01T10:30:00.000Z'],
    ['2025-01-01T10:30:15.25Z', '2025-01-01T10:30:15.250Z'],
    ['2025-01-01T10:30:00', '2025-01-01T10:30:00.000Z'],
    ['2025-01-01T12:30:00%2B02:00', '2025-01-01T10:30:00.000Z'],
    ['2025-01-01T12:30:00+02:00', '2025-01-01T10:30:00.000Z'],
    ['2025-01-01T05:30:00-0500', '2025-01-01T10:30:00.000Z'],
  ])('reads from=%s as %s (no offset is UTC; an unencoded + arrives as a space)', async (from, iso) => {
    expect((await json(`?from=${from}&to=2025-01-02`)).from).toBe(iso)
  })

  it('groups by day over a date range that ends before `to`', async () => {
    for (const ts of [Date.UTC(2025, 0, 9, 23), Date.UTC(2025, 0, 10, 1), Date.UTC(2025, 0, 11, 2), Date.UTC(2025, 0, 12)]) {
      insert({ ts })
    }
    expect(groups(await json('?groupBy=day&from=2025-01-10&to=2025-01-12'))).toEqual([
      ['2025-01-10', 1],
      ['2025-01-11', 1],
    ])
  })

  it.each([
    [
      '?from=2025-02-30',
      'from',
      'from: expected an ISO 8601 date or time (2025-01-31, 2025-01-31T12:00:00Z) or epoch milliseconds',
    ],
    [
      '?from=yesterday',
      'from',
      'from: expected an ISO 8601 date or time (2025-01-31, 2025-01-31T12:00:00Z) or epoch milliseconds',
    ],
    ['?to=2025-01-01T24:00Z', 'to', 'to: expected an ISO 8601 date or time'],
    ['?to=2025-01-01T10:00%2B19:00', 'to', 'to: expected an ISO 8601 date or time'],
    ['?to=99999999999999999', 'to', 'to: expected an ISO 8601 date or time'],
    ['?from=2025-01-02&to=2025-01-02', 'from', 'from (2025-01-02T00:00:00.000Z) must be before to (2025-01-02T00:00:00.000Z)'],
    ['?from=2025-03-01', 'from', 'from (2025-03-01T00:00:00.000Z) must be before to (2025-02-01T12:00:00.000Z)'],
    ['?groupBy=week', 'groupBy', 'groupBy: expected one of model, key, org, user, day'],
    ['?format=xlsx', 'format', 'format: expected one of json, csv'],
    ['?since=2025-01-01', 'since', 'unknown field "since"'],
  ])('refuses %s at %s', async (query, param, message) => {
    const res = await get(query)
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toMatchObject({ code: 'invalid_request', param, message: expect.stringContaining(message) })
  })

  it('answers CSV as an attachment named after the grouping and the range', async () => {
    insert({ ts: NOW - DAY, model: 'big, "fast" one' })
    const res = await get('?format=csv')
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8')
    expect(res.headers['content-disposition']).toBe(
      'attachment; filename="cortex-usage-model-2025-01-02T12-00-00Z-2025-02-01T12-00-00Z.csv"',
    )
    expect(res.body).toBe(usageCsv(await json('')))
    expect(res.body.split('\r\n')[1]).toMatch(/^"big, ""fast"" one",/)

    const byDay = await get('?format=csv&groupBy=day&from=2025-01-01&to=2025-02-01')
    expect(byDay.headers['content-disposition']).toBe('attachment; filename="cortex-usage-day-2025-01-01-2025-02-01.csv"')
  })

  describe('for an admin:read key', () => {
    beforeEach(() => {
      const ts = NOW - DAY
      insert({ ts, orgId: 'org-1', keyId: 'k1', model: 'a' })
      insert({ ts, orgId: 'org-1', keyId: 'k2', model: 'b' })
      insert({ ts, orgId: 'org-2', keyId: 'k3', model: 'a' })
      insert({ ts, orgId: null, keyId: 'k4', model: 'a' })
      insert({ ts, orgId: null, keyId: null, model: 'a' })
    })

    it('lets the admin token see everyone', async () => {
      expect(groups(await json('?groupBy=org'))).toEqual([
        ['org-1', 2],
        ['org-2', 1],
        [null, 2],
      ])
    })

    it("shows a key in an organization that organization's usage only, whatever the grouping", async () => {
      caller = keyCaller('k1', 'org-1')
      expect(groups(await json(''))).toEqual([
        ['a', 1],
        ['b', 1],
      ])
      expect(groups(await json('?groupBy=org'))).toEqual([['org-1', 2]])
      expect(groups(await json('?groupBy=key'))).toEqual([
        ['k1', 1],
        ['k2', 1],
      ])
      expect((await get('?format=csv&groupBy=org')).body).not.toContain('org-2')
    })

    it("lets the admin token ask for one organization's usage by its name, and says which ones exist", async () => {
      const acme = createOrgRepo(db, Date.now).create('acme')
      insert({ ts: NOW - DAY, orgId: acme.id, keyId: 'k5', model: 'c' })
      expect(groups(await json('?org=acme'))).toEqual([['c', 1]])
      expect(groups(await json(`?org=${acme.id}&groupBy=key`))).toEqual([['k5', 1]])
      const unknown = await get('?org=nope')
      expect(unknown.statusCode).toBe(400)
      expect(unknown.json().error).toMatchObject({ code: 'invalid_request', param: 'org' })
      expect(unknown.json().error.message).toContain('"acme"')
    })

    it('shows a key with no organization its own usage only', async () => {
      caller = keyCaller('k4', null)
      expect(groups(await json('?groupBy=org'))).toEqual([[null, 1]])
      expect(groups(await json('?groupBy=key'))).toEqual([['k4', 1]])
    })

    it('refuses ?org= from a key without looking the organization up (its error would list them all)', async () => {
      createOrgRepo(db, Date.now).create('secret-customer')
      caller = keyCaller('k1', 'org-1')
      const res = await get('?org=nope')
      expect(res.statusCode).toBe(403)
      expect(res.json().error.code).toBe('scope_not_allowed')
      expect(res.body).not.toContain('secret-customer')
    })

    it("shows a member's console session their organization's usage only, and refuses ?org= unlooked-up", async () => {
      createOrgRepo(db, Date.now).create('secret-customer')
      caller = { kind: 'member', user: { id: 'usr_ann', name: 'ann', role: 'member', orgId: 'org-2', builtin: false } }
      expect(groups(await json('?groupBy=org'))).toEqual([['org-2', 1]])
      expect(groups(await json('?groupBy=key'))).toEqual([['k3', 1]])
      expect((await get('?format=csv&groupBy=key')).body).not.toMatch(/k1|k2|k4/)
      for (const org of ['nope', 'org-1']) {
        const res = await get(`?org=${org}`)
        expect(res.statusCode).toBe(403)
        expect(res.json().error.code).toBe('role_not_allowed')
        expect(res.body).not.toContain('secret-customer')
      }
    })
  })
})
