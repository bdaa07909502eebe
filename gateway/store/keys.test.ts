import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createKey, hashKey } from '../auth/keys.js'
import type { KeyRepo, OrgRepo, UserRepo } from '../auth/types.js'
import { createKeyRepo } from './keys.js'
import { migrate } from './migrations.js'
import { createOrgRepo, createUserRepo } from './orgs.js'
import { createUsageWriter } from './usage.js'
import { newKey } from '../auth/keys.test-support.js'
import { usageRecord } from '../engines/usage.test-support.js'

let db: Database.Database
let keys: KeyRepo
let orgs: OrgRepo
let users: UserRepo
let clock: number
beforeEach(() => {
  db = new Database(':memory:')
  db.pragma('foreign_keys = ON')
  clock = Date.UTC(2025, 5, 1)
  migrate(db, { dataDir: '/nonexistent', now: () => clock })
  keys = createKeyRepo(db, () => clock)
  orgs = createOrgRepo(db, () => clock)
  users = createUserRepo(db, () => clock)
})
afterEach(() => db.close())

const spec = newKey

describe('KeyRepo.create', () => {
  it('generates sk-cortex- and 43 base64url characters, and stores only its SHA-256 and a prefix', () => {
    const { record, secret } = createKey(keys, spec())
    expect(secret).toMatch(/^sk-cortex-[A-Za-z0-9_-]{43}$/)
    expect(record).toMatchObject({ name: 'ci', hash: hashKey(secret), prefix: `${secret.slice(0, 14)}…`, revokedAt: null })
    expect(record.id).toMatch(/^key_[0-9a-f]{12}$/)
    expect(record.createdAt).toBe(clock)
    expect(JSON.stringify(db.prepare('SELECT * FROM api_keys').all())).not.toContain(secret.slice(14))
  })

  it('makes a different key every time', () => {
    const a = createKey(keys, spec({ name: 'a' })).secret
    const b = createKey(keys, spec({ name: 'b' })).secret
    expect(a).not.toBe(b)
  })

  it('keeps every field as given and reads it back the same', () => {
    const org = orgs.create('acme')
    const full = spec({
      orgId: org.id,
      models: ['qwen', 'llama'],
      scopes: ['admin:read'],
      limits: { rpm: 60, tpm: 10_000, concurrency: 2, dailyTokens: 1_000_000 },
      ips: ['10.0.0.0/8', 'fd00::/8'],
      expiresAt: clock + 86_400_000,
    })
    const { record } = createKey(keys, full)
    expect(keys.get(record.id)).toEqual(record)
    expect(keys.get('ci')).toEqual(record)
    expect(record).toMatchObject({ ...full, revokedAt: null })
  })

  it('takes the operator’s own key, and shows at most a third of a short one', () => {
    const secret = 'operator-key-0123456789'
    const { record, secret: returned } = createKey(keys, spec({ secret }))
    expect(returned).toBe(secret)
    expect(record.hash).toBe(hashKey(secret))
    expect(record.prefix).toBe('operato…')
  })

  it('refuses a taken name at param name and a taken key at param key, and stores nothing', () => {
    createKey(keys, spec({ secret: 'the-same-key-0123456789' }))
    expect(() => createKey(keys, spec({ secret: 'another-key-0123456789' }))).toThrow(
      expect.objectContaining({
        code: 'invalid_request',
        message: 'an API key named "ci" already exists',
        details: { param: 'name' },
      }),
    )
    expect(() => createKey(keys, spec({ name: 'other', secret: 'the-same-key-0123456789' }))).toThrow(
      expect.objectContaining({ code: 'invalid_request', details: { param: 'key' } }),
    )
    expect(keys.list().map((k) => k.name)).toEqual(['ci'])
  })

  it('keeps the user a key belongs to and reads it back the same', () => {
    const acme = orgs.create('acme')
    const ann = users.create({ orgId: acme.id, name: 'ann', role: 'member', password: 'correct horse battery' })
    const { record } = createKey(keys, spec({ orgId: acme.id, userId: ann.id }))
    expect(record).toMatchObject({ orgId: acme.id, userId: ann.id })
    expect(keys.get(record.id)).toEqual(record)
    expect(keys.list()).toEqual([record])
  })

  it('refuses an organization or a user that does not exist, and a user’s key outside the user’s organization', () => {
    expect(() => createKey(keys, spec({ orgId: 'org_missing' }))).toThrow('FOREIGN KEY constraint failed')
    const acme = orgs.create('acme')
    const beta = orgs.create('beta')
    const ann = users.create({ orgId: acme.id, name: 'ann', role: 'member', password: 'correct horse battery' })
    expect(() => createKey(keys, spec({ orgId: acme.id, userId: 'usr_missing' }))).toThrow('FOREIGN KEY constraint failed')
    expect(() => createKey(keys, spec({ orgId: beta.id, userId: ann.id }))).toThrow('FOREIGN KEY constraint failed')
    expect(() => createKey(keys, spec({ orgId: null, userId: ann.id }))).toThrow('CHECK constraint failed')
    expect(keys.list()).toEqual([])
  })
})

describe('KeyRepo reads', () => {
  it('findByHash finds revoked and expired keys too, and nothing for an unknown hash', () => {
    const { record, secret } = createKey(keys, spec({ expiresAt: clock - 1 }))
    keys.revoke(record.id)
    expect(keys.findByHash(hashKey(secret))).toMatchObject({ id: record.id, revokedAt: clock })
    expect(keys.findByHash(hashKey('sk-cortex-nope'))).toBeUndefined()
  })

  it('findByHash sees a revoke made through another connection at the next lookup, though it caches', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-keys-'))
    const file = path.join(dir, 'cortex.db')
    const mine = new Database(file)
    const theirs = new Database(file)
    try {
      for (const d of [mine, theirs]) d.pragma('journal_mode = WAL')
      migrate(mine, { dataDir: dir, now: () => clock })
      const repo = createKeyRepo(mine, () => clock)
      const { record, secret } = createKey(repo, spec())
      const hash = hashKey(secret)
      expect(repo.findByHash(hash)).toBe(repo.findByHash(hash))
      expect(repo.findByHash(hash)?.revokedAt).toBeNull()
      createKeyRepo(theirs, () => clock).revoke(record.id)
      expect(repo.findByHash(hash)?.revokedAt).toBe(clock)
      // A second key made by the other process is found too.
      const other = createKey(
        createKeyRepo(theirs, () => clock),
        spec({ name: 'other' }),
      )
      expect(repo.findByHash(hashKey(other.secret))?.name).toBe('other')
    } finally {
      mine.close()
      theirs.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('findByHash hands out records no caller can change for the others', () => {
    const { secret } = createKey(keys, spec())
    const record = keys.findByHash(hashKey(secret))!
    expect(() => ((record as { name: string }).name = 'x')).toThrow(TypeError)
    expect(() => (record.scopes as string[]).push('admin:read')).toThrow(TypeError)
  })

  it('findByHash is one indexed lookup', () => {
    const plan = db.prepare('EXPLAIN QUERY PLAN SELECT * FROM api_keys WHERE hash = ?').all('x') as Array<{ detail: string }>
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING INDEX sqlite_autoindex_api_keys_\d/)
  })

  it('get prefers the id, then the name; list is by name', () => {
    const b = createKey(keys, spec({ name: 'b' })).record
    const a = createKey(keys, spec({ name: b.id })).record
    expect(keys.get(b.id)).toEqual(b)
    expect(keys.get('b')).toEqual(b)
    expect(keys.get('nope')).toBeUndefined()
    expect(keys.list().map((k) => k.name)).toEqual(['b', a.name])
  })
})

describe('KeyRepo.revoke', () => {
  it('marks the key revoked by id or name and keeps the first time on a second revoke', () => {
    const { record } = createKey(keys, spec())
    expect(keys.revoke('ci')).toEqual({ ...record, revokedAt: clock })
    const first = clock
    clock += 60_000
    expect(keys.revoke(record.id)?.revokedAt).toBe(first)
    expect(keys.list()).toHaveLength(1)
  })

  it('answers undefined for an unknown key', () => {
    expect(keys.revoke('nope')).toBeUndefined()
  })
})

describe('KeyRepo.tokensSince', () => {
  const row = (ts: number, keyId: string | null, promptTokens: number | null, completionTokens: number | null) =>
    usageRecord({ ts, requestId: `r-${ts}`, keyId, promptTokens, completionTokens })

  it('sums prompt and completion tokens per key from ts on, counting unknown counts as 0 and leaving out keyless rows', () => {
    const usage = createUsageWriter(db, { logger: pino({ level: 'silent' }), retryIntervalMs: 60_000 })
    const since = clock - 3_600_000
    usage.record(row(since - 1, 'key_a', 1000, 1000))
    usage.record(row(since, 'key_a', 10, 5))
    usage.record(row(since + 1, 'key_a', null, 7))
    usage.record(row(since + 2, 'key_b', 3, null))
    usage.record(row(since + 3, null, 100, 100))
    usage.close()
    expect(keys.tokensSince(since)).toEqual(
      new Map([
        ['key_a', 22],
        ['key_b', 3],
      ]),
    )
    expect(keys.tokensSince(clock)).toEqual(new Map())
  })
})
