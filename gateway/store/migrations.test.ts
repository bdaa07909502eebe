import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { migrate, migrations, type Migration } from './migrations.js'
import { openStore } from './open.js'

let dir: string
let dbFile: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-migrate-'))
  dbFile = path.join(dir, 'cortex.db')
})
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

const now = () => Date.UTC(2025, 0, 31, 12, 0, 0)
const latest = migrations.at(-1)!.version
const tables = (db: Database.Database) =>
  (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map(
    (r) => r.name,
  )

describe('migrations', () => {
  it('are numbered 1, 2, 3… with no gap', () => {
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1))
  })

  it('bring a fresh database to the latest version without a backup', () => {
    const db = new Database(dbFile)
    expect(migrate(db, { dataDir: dir, now })).toEqual({ from: 0, to: latest, backup: null })
    expect(db.pragma('user_version', { simple: true })).toBe(latest)
    const fts = ['', '_config', '_data', '_docsize', '_idx'].map((suffix) => `chat_messages_fts${suffix}`)
    expect(tables(db)).toEqual([
      'api_keys',
      'chat_messages',
      ...fts,
      'chats',
      'completion_cache',
      'engine_processes',
      'models',
      'orgs',
      'routes',
      'sessions',
      'settings',
      'usage',
      'users',
    ])
    const indexes = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'usage' ORDER BY name").all()
    expect(indexes).toEqual([
      { name: 'usage_key_ts' },
      { name: 'usage_model_ts' },
      { name: 'usage_ts' },
      { name: 'usage_user_ts' },
    ])
    db.close()
    expect(fs.existsSync(path.join(dir, 'backups'))).toBe(false)
  })

  it('leave a current database alone', () => {
    openStore(dir).close()
    const db = new Database(dbFile)
    expect(migrate(db, { dataDir: dir, now })).toEqual({ from: latest, to: latest, backup: null })
    db.close()
  })

  it('back up an existing database before migrating it, including rows still in the WAL', () => {
    const old = new Database(dbFile)
    old.pragma('journal_mode = WAL')
    old.pragma('wal_autocheckpoint = 0')
    old.exec("CREATE TABLE legacy (x TEXT); INSERT INTO legacy VALUES ('kept')")
    expect(fs.statSync(`${dbFile}-wal`).size).toBeGreaterThan(0)

    openStore(dir, { now }).close()
    old.close()

    const backup = path.join(dir, 'backups', 'cortex.db.v0-2025-01-31T12-00-00-000Z.bak')
    const copy = new Database(backup, { readonly: true })
    expect(copy.pragma('user_version', { simple: true })).toBe(0)
    expect(copy.prepare('SELECT x FROM legacy').all()).toEqual([{ x: 'kept' }])
    expect(tables(copy)).toEqual(['legacy'])
    copy.close()
  })

  it('apply later migrations after a backup named by the old version, each in a transaction', () => {
    openStore(dir).close()
    const db = new Database(dbFile)
    const failing: Migration[] = [
      ...migrations,
      {
        version: latest + 1,
        up: (d) => {
          d.exec('CREATE TABLE half_done (x)')
          throw new Error('migration broke')
        },
      },
    ]
    expect(() => migrate(db, { dataDir: dir, now, list: failing })).toThrow('migration broke')
    expect(db.pragma('user_version', { simple: true })).toBe(latest)
    expect(tables(db)).not.toContain('half_done')
    expect(fs.readdirSync(path.join(dir, 'backups'))).toEqual([`cortex.db.v${latest}-2025-01-31T12-00-00-000Z.bak`])

    const working: Migration[] = [
      ...migrations,
      { version: latest + 1, up: (d) => d.exec('CREATE TABLE keys (id TEXT PRIMARY KEY)') },
    ]
    const later = () => now() + 1000
    expect(migrate(db, { dataDir: dir, now: later, list: working })).toMatchObject({ from: latest, to: latest + 1 })
    expect(tables(db)).toContain('keys')
    db.close()
  })

  it('refuse a database newer than the code', () => {
    const db = new Database(dbFile)
    db.pragma('user_version = 7')
    expect(() => migrate(db, { dataDir: dir, now })).toThrow(
      `database schema v7 is newer than this Cortex (knows v${latest}): upgrade Cortex or use another --data-dir`,
    )
    db.close()
  })

  it('v2 keeps the usage rows of v1, with no key and no organization', () => {
    const db = new Database(dbFile)
    migrate(db, { dataDir: dir, now, list: migrations.slice(0, 1) })
    db.exec(`INSERT INTO usage (ts, request_id, model, endpoint, status, stream, total_ms, bytes_in, bytes_out)
             VALUES (1, 'r1', 'm', '/v1/chat/completions', 200, 0, 5, 1, 2)`)
    expect(migrate(db, { dataDir: dir, now })).toMatchObject({ from: 1, to: latest })
    expect(db.prepare('SELECT request_id, key_id, org_id FROM usage').all()).toEqual([
      { request_id: 'r1', key_id: null, org_id: null },
    ])
    db.close()
  })

  it('v2 refuses invalid JSON in api_keys and a role other than admin or member', () => {
    const db = new Database(dbFile)
    migrate(db, { dataDir: dir, now })
    const key = db.prepare(
      "INSERT INTO api_keys (id, name, hash, prefix, scopes, created_at) VALUES ('key_1', 'k', 'h', 'p', ?, 1)",
    )
    expect(() => key.run('not json')).toThrow('CHECK constraint failed')
    db.prepare("INSERT INTO orgs (id, name, created_at) VALUES ('org_1', 'acme', 1)").run()
    const user = db.prepare(
      "INSERT INTO users (id, org_id, name, role, password_hash, created_at) VALUES ('usr_1', 'org_1', 'ann', ?, 'x', 1)",
    )
    expect(() => user.run('owner')).toThrow('CHECK constraint failed')
    db.close()
  })

  it('v5 (chats) upgrades a v4 database in place, keeping its users and usage rows', () => {
    const db = new Database(dbFile)
    db.pragma('foreign_keys = ON')
    migrate(db, { dataDir: dir, now, list: migrations.slice(0, 4) })
    db.exec(`INSERT INTO orgs (id, name, created_at) VALUES ('org_1', 'acme', 1);
             INSERT INTO users (id, org_id, name, role, password_hash, created_at) VALUES ('usr_1', 'org_1', 'ann', 'member', 'x', 1);
             INSERT INTO usage (ts, request_id, model, route, endpoint, status, stream, total_ms, bytes_in, bytes_out)
             VALUES (1, 'r1', 'm', 'fast', '/v1/chat/completions', 200, 1, 5, 1, 2)`)
    const result = migrate(db, { dataDir: dir, now })
    expect(result).toMatchObject({ from: 4, to: latest, backup: expect.stringContaining('cortex.db.v4-') })
    expect(db.prepare('SELECT request_id, route, user FROM usage').all()).toEqual([
      { request_id: 'r1', route: 'fast', user: null },
    ])
    expect(db.prepare('SELECT id, name, deleted_at FROM users').all()).toEqual([{ id: 'usr_1', name: 'ann', deleted_at: null }])
    db.exec(`INSERT INTO chats (id, user_id, title, model, params, created_at, updated_at) VALUES ('c1', 'usr_1', 't', 'm', '{}', 1, 1);
             INSERT INTO chat_messages (id, chat_id, role, content, state, created_at, updated_at)
             VALUES ('m1', 'c1', 'user', 'upgraded in place', 'complete', 1, 1)`)
    expect(db.prepare("SELECT rowid FROM chat_messages_fts WHERE chat_messages_fts MATCH 'upgraded'").all()).toHaveLength(1)
    db.close()
  })

  it('v6 (completion cache, routes) upgrades a v5 database in place, keeping its keys and usage rows', () => {
    const db = new Database(dbFile)
    migrate(db, { dataDir: dir, now, list: migrations.slice(0, 5) })
    db.exec(`INSERT INTO api_keys (id, name, hash, prefix, scopes, tags, created_at) VALUES ('key_1', 'k', 'h', 'p', '[]', '["n8n"]', 1);
             INSERT INTO usage (ts, request_id, model, endpoint, status, stream, total_ms, bytes_in, bytes_out, user)
             VALUES (1, 'r1', 'm', '/v1/chat/completions', 200, 1, 5, 1, 2, 'ann')`)
    expect(migrate(db, { dataDir: dir, now })).toMatchObject({ from: 5, to: latest })
    expect(db.prepare('SELECT request_id, user, cache FROM usage').all()).toEqual([
      { request_id: 'r1', user: 'ann', cache: null },
    ])
    expect(db.prepare('SELECT id, tags, cache FROM api_keys').all()).toEqual([{ id: 'key_1', tags: '["n8n"]', cache: null }])
    const usage =
      db.prepare(`INSERT INTO usage (ts, request_id, model, endpoint, status, stream, total_ms, bytes_in, bytes_out, cache)
                              VALUES (2, 'r2', 'm', '/v1/chat/completions', 200, 0, 1, 1, 1, ?)`)
    usage.run('hit')
    expect(() => usage.run('maybe')).toThrow('CHECK constraint failed')
    db.close()
  })
})
