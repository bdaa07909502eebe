import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { UsageGroup, UsageReportQuery } from '../contract/index.js'
import type { UsageRecord } from '../contract/usage.js'
import { migrate } from './migrations.js'
import { usageCsv, usageReport } from './usage-report.js'
import { createUsageWriter } from './usage.js'
import { usageRecord } from '../engines/usage.test-support.js'

const T0 = Date.UTC(2025, 0, 10)
const DAY = 86_400_000

let dir: string
let db: Database.Database
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-usage-report-'))
  db = new Database(path.join(dir, 'cortex.db'))
  db.pragma('journal_mode = WAL')
  migrate(db, { dataDir: dir, now: Date.now })
})
afterEach(() => {
  db.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

let seq = 0
/** Rows go in through the real usage writer, as the gateway writes them. */
function record(...rows: Array<Partial<UsageRecord>>): void {
  const writer = createUsageWriter(db, { logger: pino({ level: 'silent' }), retryIntervalMs: 60_000 })
  for (const row of rows) {
    seq += 1
    writer.record(usageRecord({ ts: T0, requestId: `req-${seq}`, model: 'm', stream: false, totalMs: 1, ...row }))
  }
  writer.close()
}

const report = (q: Partial<UsageReportQuery> = {}) => usageReport(db, { groupBy: 'model', from: T0, to: T0 + DAY, ...q })
const keysOf = (groups: UsageGroup[]) => groups.map((g) => [g.key, g.name, g.requests])
const p = (p50: number, p95: number, p99: number) => ({ p50, p95, p99 })

function addOrg(id: string, name: string): void {
  db.prepare('INSERT INTO orgs (id, name, created_at) VALUES (?, ?, 0)').run(id, name)
}
function addKey(id: string, name: string, orgId: string | null, revokedAt: number | null = null): void {
  db.prepare(
    `INSERT INTO api_keys (id, name, hash, prefix, org_id, scopes, created_at, revoked_at)
     VALUES (?, ?, ?, 'sk-cortex-', ?, '["inference"]', 0, ?)`,
  ).run(id, name, `hash-${id}`, orgId, revokedAt)
}

describe('usageReport', () => {
  it('sums and counts per model and in total, errors counting 4xx, 5xx and 499', () => {
    record(
      { model: 'a', status: 200, promptTokens: 10, completionTokens: 20, ttftMs: 5, totalMs: 100, bytesIn: 100, bytesOut: 1000 },
      { model: 'a', status: 500, totalMs: 10, bytesIn: 50, bytesOut: 80 },
      { model: 'a', status: 499, promptTokens: 7, ttftMs: 8, totalMs: 30, bytesIn: 60, bytesOut: 0 },
      { model: 'b', status: 200, promptTokens: 1, completionTokens: 2, totalMs: 40, bytesIn: 10, bytesOut: 20 },
    )
    const r = report()
    expect(r).toMatchObject({ groupBy: 'model', from: '2025-01-10T00:00:00.000Z', to: '2025-01-11T00:00:00.000Z' })
    expect(r.groups).toEqual([
      {
        key: 'a',
        name: 'a',
        requests: 3,
        errors: 2,
        errorRate: 2 / 3,
        promptTokens: 17,
        completionTokens: 20,
        totalTokens: 37,
        bytesIn: 210,
        bytesOut: 1080,
        latencyMs: p(30, 100, 100),
        ttftMs: p(5, 8, 8),
      },
      {
        key: 'b',
        name: 'b',
        requests: 1,
        errors: 0,
        errorRate: 0,
        promptTokens: 1,
        completionTokens: 2,
        totalTokens: 3,
        bytesIn: 10,
        bytesOut: 20,
        latencyMs: p(40, 40, 40),
        ttftMs: null,
      },
    ])
    expect(r.total).toEqual({
      key: null,
      name: null,
      requests: 4,
      errors: 2,
      errorRate: 0.5,
      promptTokens: 18,
      completionTokens: 22,
      totalTokens: 40,
      bytesIn: 220,
      bytesOut: 1100,
      // All four latencies sorted: 10, 30, 40, 100; ranks ceil(.5·4)=2, ceil(.95·4)=4, ceil(.99·4)=4.
      latencyMs: p(30, 100, 100),
      ttftMs: p(5, 8, 8),
    })
  })

  it('takes nearest-rank percentiles of values inserted out of order', () => {
    const shuffled = (n: number) => Array.from({ length: n }, (_, i) => ((i * 37) % n) + 1)
    record(
      ...shuffled(100).map((v) => ({ model: 'hundred', totalMs: v, ttftMs: v / 10 })),
      ...shuffled(20).map((v) => ({ model: 'twenty', totalMs: v })),
      ...shuffled(10).map((v) => ({ model: 'ten', totalMs: v + 0.5 })),
    )
    const byModel = Object.fromEntries(report().groups.map((g) => [g.key, g]))
    expect(byModel.hundred).toMatchObject({ latencyMs: p(50, 95, 99), ttftMs: p(5, 9.5, 9.9) })
    expect(byModel.twenty).toMatchObject({ latencyMs: p(10, 19, 20), ttftMs: null })
    expect(byModel.ten).toMatchObject({ latencyMs: p(5.5, 10.5, 10.5), ttftMs: null })
    // 130 values: ranks 65, 124 and 129 of 1..100 ∪ 1..20 ∪ 1.5..10.5.
    const all = [...shuffled(100), ...shuffled(20), ...shuffled(10).map((v) => v + 0.5)].sort((x, y) => x - y)
    expect(report().total.latencyMs).toEqual(p(all[64]!, all[123]!, all[128]!))
  })

  it('names keys (a revoked one too) and gathers keyless rows under null, listed last', () => {
    addOrg('org-1', 'Research')
    addKey('key-b', 'batch', 'org-1', T0 - 1)
    addKey('key-a', 'alice', null)
    record({ keyId: 'key-b' }, { keyId: 'key-a' }, { keyId: 'key-a' }, { keyId: null }, { keyId: 'key-gone' })
    expect(keysOf(report({ groupBy: 'key' }).groups)).toEqual([
      ['key-a', 'alice', 2],
      ['key-b', 'batch', 1],
      ['key-gone', null, 1],
      [null, null, 1],
    ])
  })

  it('groups by organization with its name', () => {
    addOrg('org-1', 'Research')
    addOrg('org-2', 'Sales, EMEA')
    record({ orgId: 'org-2' }, { orgId: 'org-1' }, { orgId: 'org-2' }, { orgId: null })
    expect(keysOf(report({ groupBy: 'org' }).groups)).toEqual([
      ['org-1', 'Research', 1],
      ['org-2', 'Sales, EMEA', 2],
      [null, null, 1],
    ])
  })

  it('groups by console user with their name, the built-in admin as admin, a deleted user still named', () => {
    addOrg('org-1', 'Research')
    db.prepare(
      "INSERT INTO users (id, org_id, name, role, password_hash, created_at, deleted_at) VALUES ('usr_1', 'org-1', 'ann', 'member', 'x', 0, 1)",
    ).run()
    record({ user: 'usr_1' }, { user: 'admin' }, { user: 'usr_1' }, {})
    expect(keysOf(report({ groupBy: 'user' }).groups)).toEqual([
      ['admin', 'admin', 1],
      ['usr_1', 'ann', 2],
      [null, null, 1],
    ])
  })

  it('groups by UTC day, split at midnight', () => {
    record({ ts: T0 - 1 }, { ts: T0 }, { ts: T0 + DAY - 1 }, { ts: T0 + DAY }, { ts: T0 + 2 * DAY + 5 })
    expect(keysOf(report({ groupBy: 'day', from: T0 - DAY, to: T0 + 3 * DAY }).groups)).toEqual([
      ['2025-01-09', '2025-01-09', 1],
      ['2025-01-10', '2025-01-10', 2],
      ['2025-01-11', '2025-01-11', 1],
      ['2025-01-12', '2025-01-12', 1],
    ])
  })

  it('counts from inclusive and to exclusive', () => {
    record({ ts: T0 - 1, totalMs: 1 }, { ts: T0, totalMs: 2 }, { ts: T0 + 999, totalMs: 3 }, { ts: T0 + 1000, totalMs: 4 })
    const r = report({ to: T0 + 1000 })
    expect(r.total).toMatchObject({ requests: 2, latencyMs: p(2, 3, 3) })
  })

  it('shows an organization or a key only its own rows, whatever the grouping', () => {
    addOrg('org-1', 'Research')
    addOrg('org-2', 'Sales')
    record(
      { orgId: 'org-1', keyId: 'k1', model: 'a', totalMs: 10 },
      { orgId: 'org-1', keyId: 'k2', model: 'b', totalMs: 20 },
      { orgId: 'org-2', keyId: 'k3', model: 'a', totalMs: 30 },
      { orgId: null, keyId: 'k4', model: 'a', totalMs: 40 },
    )
    expect(keysOf(report({ orgId: 'org-1' }).groups)).toEqual([
      ['a', 'a', 1],
      ['b', 'b', 1],
    ])
    expect(keysOf(report({ groupBy: 'org', orgId: 'org-1' }).groups)).toEqual([['org-1', 'Research', 2]])
    expect(report({ groupBy: 'org', orgId: 'org-1' }).total).toMatchObject({ requests: 2, latencyMs: p(10, 20, 20) })
    expect(keysOf(report({ groupBy: 'key', keyId: 'k4' }).groups)).toEqual([['k4', null, 1]])
    expect(report({ groupBy: 'org', keyId: 'k4' }).total).toMatchObject({ requests: 1, latencyMs: p(40, 40, 40) })
  })

  it('answers an empty range with no groups and a zero total without percentiles', () => {
    record({ ts: T0 - 1 })
    expect(report()).toEqual({
      groupBy: 'model',
      from: '2025-01-10T00:00:00.000Z',
      to: '2025-01-11T00:00:00.000Z',
      groups: [],
      total: {
        key: null,
        name: null,
        requests: 0,
        errors: 0,
        errorRate: 0,
        promptTokens: 0,
        completionTokens: 0,
        totalTokens: 0,
        bytesIn: 0,
        bytesOut: 0,
        latencyMs: null,
        ttftMs: null,
      },
    })
  })

  it.each<Partial<UsageReportQuery>>([
    { groupBy: 'model' },
    { groupBy: 'key' },
    { groupBy: 'org', orgId: 'org-1' },
    { groupBy: 'day', keyId: 'k1' },
  ])('reads the time range through an index: %j', (q) => {
    const prepare = vi.spyOn(db, 'prepare')
    report(q)
    const statements = prepare.mock.calls.map(([sql]) => sql)
    prepare.mockRestore()
    expect(statements).toHaveLength(5)
    for (const sql of statements) {
      const plan = db
        .prepare<[object], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
        .all({ from: T0, to: T0 + DAY, orgId: q.orgId, keyId: q.keyId })
        .map((row) => row.detail)
      expect(plan.some((d) => /^SEARCH usage USING INDEX usage_(key_)?ts \((key_id=\? AND )?ts>\? AND ts<\?\)$/.test(d))).toBe(
        true,
      )
      expect(plan.filter((d) => d.startsWith('SCAN usage'))).toEqual([])
    }
  })
})

describe('usageCsv', () => {
  it('writes a header and one CRLF row per group, quoting commas and quotes, nulls empty', () => {
    record(
      { model: 'big, "fast" one', status: 500, promptTokens: 3, completionTokens: 4, totalMs: 12.5, bytesIn: 1, bytesOut: 2 },
      { model: 'plain', totalMs: 7, ttftMs: 2, bytesIn: 5, bytesOut: 6 },
    )
    expect(usageCsv(report())).toBe(
      'model,name,requests,errors,errorRate,promptTokens,completionTokens,totalTokens,bytesIn,bytesOut,' +
        'latencyP50Ms,latencyP95Ms,latencyP99Ms,ttftP50Ms,ttftP95Ms,ttftP99Ms\r\n' +
        '"big, ""fast"" one","big, ""fast"" one",1,1,1,3,4,7,1,2,12.5,12.5,12.5,,,\r\n' +
        'plain,plain,1,0,0,0,0,0,5,6,7,7,7,2,2,2\r\n',
    )
  })

  it('quotes a line break and leaves a null key empty', () => {
    addKey('k1', 'line\nbreak', null)
    record({ keyId: 'k1' }, { keyId: null })
    const lines = usageCsv(report({ groupBy: 'key' })).split('\r\n')
    expect(lines.slice(1)).toEqual(['k1,"line\nbreak",1,0,0,0,0,0,0,0,1,1,1,,,', ',,1,0,0,0,0,0,0,0,1,1,1,,,', ''])
  })
})
