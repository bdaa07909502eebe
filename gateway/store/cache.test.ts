import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { answerSize, cacheStoreCases, cachePolicy, cachedAnswer } from '../proxy/cache-store-cases.test-support.js'
import { createSqliteCache } from './cache.js'
import { migrate } from './migrations.js'

let dir: string
let db: Database.Database
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-cache-'))
  db = new Database(path.join(dir, 'cortex.db'))
  migrate(db, { dataDir: dir, now: Date.now })
})
afterEach(() => {
  db.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

const logger = pino({ level: 'silent' })

describe('the SQLite completion cache', () => {
  cacheStoreCases(async () => createSqliteCache(db, logger))

  it('counts the bytes it keeps, per answer and after a ttl or an eviction, and again when the database is reopened', async () => {
    const cache = createSqliteCache(db, logger)
    const p = cachePolicy({ maxBytes: 2 * answerSize })
    cache.put('k1', 'model:tiny', cachedAnswer('aaaa'), p, 1)
    cache.put('k2', 'model:tiny', cachedAnswer('aaaa'), cachePolicy({ ttlMs: 10 }), 1)
    expect(cache.bytes()).toBe(2 * answerSize)
    expect(await cache.get('k2', 100)).toBeNull()
    expect(cache.bytes()).toBe(answerSize)
    cache.put('k3', 'model:tiny', cachedAnswer('aaaa'), p, 2)
    cache.put('k4', 'model:tiny', cachedAnswer('aaaa'), p, 3)
    expect(cache.bytes()).toBe(2 * answerSize)
    expect(createSqliteCache(db, logger).bytes()).toBe(2 * answerSize)
    // A ttl of 0 is never.
    cache.put('k5', 'route:chat', cachedAnswer('aaaa'), cachePolicy({ ttlMs: 0 }), 1)
    expect(await cache.get('k5', 1e15)).not.toBeNull()
  })
})
