import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { UsageRecord } from '../contract/usage.js'
import { migrate } from './migrations.js'
import { createUsageWriter, type UsageWriterOptions } from './usage.js'

let dir: string
let dbFile: string
let db: Database.Database
let logs: Array<{ level: number; msg: string; [k: string]: unknown }>
let logger: pino.Logger
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-usage-'))
  dbFile = path.join(dir, 'cortex.db')
  db = new Database(dbFile)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  migrate(db, { dataDir: dir, now: Date.now })
  logs = []
  logger = pino({ level: 'warn' }, { write: (line: string) => void logs.push(JSON.parse(line)) })
})
afterEach(() => {
  db.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

const row = (i: number): UsageRecord => ({
  ts: 1_700_000_000_000 + i,
  requestId: `req-${i}`,
  keyId: i === 0 ? 'key_0123456789ab' : null,
  orgId: i === 0 ? 'org_0123456789ab' : null,
  model: 'qwen',
  route: i === 0 ? 'chat' : null,
  replica: i % 2,
  endpoint: '/v1/chat/completions',
  status: 200,
  stream: i % 2 === 0,
  promptTokens: 10,
  completionTokens: i,
  ttftMs: 12.5,
  totalMs: 100,
  queueMs: 0,
  overheadMs: 0.2,
  bytesIn: 300,
  bytesOut: 900,
})

const count = (on: Database.Database = db) => (on.prepare('SELECT count(*) AS n FROM usage').get() as { n: number }).n
const writer = (opts: Partial<UsageWriterOptions> = {}) => createUsageWriter(db, { logger, retryIntervalMs: 60_000, ...opts })

/** Another connection holding the write lock makes our writes fail with SQLITE_BUSY at once. */
function holdWriteLock(): () => void {
  db.pragma('busy_timeout = 0')
  const other = new Database(dbFile)
  other.exec('BEGIN IMMEDIATE')
  return () => {
    other.exec('ROLLBACK')
    other.close()
  }
}

describe('UsageWriter', () => {
  it('record() commits the row before it returns, with each column', () => {
    const usage = writer()
    usage.record({ ...row(0), cache: 'hit' })
    // Another connection sees only committed rows: the first is in the database before the second is recorded.
    const reader = new Database(dbFile, { readonly: true })
    expect(count(reader)).toBe(1)
    usage.record({ ...row(1), replica: null, promptTokens: null, completionTokens: null, ttftMs: null, status: 499 })
    expect(count(reader)).toBe(2)
    reader.close()
    expect(db.prepare('SELECT * FROM usage ORDER BY id').all()).toEqual([
      {
        id: 1,
        ts: 1_700_000_000_000,
        request_id: 'req-0',
        key_id: 'key_0123456789ab',
        org_id: 'org_0123456789ab',
        user: null,
        model: 'qwen',
        replica: 0,
        endpoint: '/v1/chat/completions',
        status: 200,
        stream: 1,
        prompt_tokens: 10,
        completion_tokens: 0,
        ttft_ms: 12.5,
        total_ms: 100,
        bytes_in: 300,
        bytes_out: 900,
        route: 'chat',
        cache: 'hit',
      },
      expect.objectContaining({
        request_id: 'req-1',
        key_id: null,
        org_id: null,
        route: null,
        cache: null,
        replica: null,
        prompt_tokens: null,
        completion_tokens: null,
        ttft_ms: null,
        status: 499,
        stream: 0,
      }),
    ])
    usage.close()
  })

  it('rows recorded after close are dropped with a warning', () => {
    const usage = writer()
    for (let i = 0; i < 3; i++) usage.record(row(i))
    usage.close()
    usage.record(row(9))
    usage.flush()
    expect(count()).toBe(3)
    expect(logs).toEqual([
      expect.objectContaining({ msg: 'usage row recorded after the store closed; dropped', requestId: 'req-9' }),
    ])
  })

  it('keeps the rows when a write fails, logs it, and writes them in order on the next flush', () => {
    const usage = writer()
    const release = holdWriteLock()
    usage.record(row(0))
    usage.record(row(1))
    expect(count()).toBe(0)
    expect(logs).toEqual([expect.objectContaining({ msg: 'writing usage rows failed; keeping them for the next try', kept: 1 })])
    release()
    // Kept rows go first: a row recorded while others wait joins them rather than overtaking them.
    usage.record(row(2))
    expect(count()).toBe(0)
    usage.flush()
    expect(db.prepare('SELECT request_id FROM usage ORDER BY id').pluck().all()).toEqual(['req-0', 'req-1', 'req-2'])
    usage.record(row(3))
    expect(count()).toBe(4)
    usage.close()
  })

  it('close() writes the kept rows', () => {
    const usage = writer()
    const release = holdWriteLock()
    usage.record(row(0))
    release()
    usage.close()
    expect(count()).toBe(1)
  })

  it('drops the oldest rows past the bound while writes fail', () => {
    const usage = writer({ maxKept: 5 })
    const release = holdWriteLock()
    for (let i = 0; i < 8; i++) usage.record(row(i))
    usage.flush()
    expect(logs.at(-2)).toMatchObject({
      msg: 'usage rows kept while writes fail are past the bound; dropped the oldest',
      dropped: 3,
      kept: 5,
    })
    release()
    usage.flush()
    expect(db.prepare('SELECT request_id FROM usage ORDER BY id').pluck().all()).toEqual([
      'req-3',
      'req-4',
      'req-5',
      'req-6',
      'req-7',
    ])
    usage.close()
  })

  it('does not retry on every record while writes fail; the timer does', async () => {
    const usage = writer({ retryIntervalMs: 30 })
    const release = holdWriteLock()
    for (let i = 0; i < 4; i++) usage.record(row(i))
    expect(logs).toHaveLength(1)
    release()
    await vi.waitFor(() => expect(count()).toBe(4), { timeout: 2000, interval: 10 })
    usage.close()
  })
})

describe('UsageWriter.recordGrouped', () => {
  it('commits the rows of one event-loop turn together, at its end, and resolves once they are in', async () => {
    const usage = writer()
    const reader = new Database(dbFile, { readonly: true })
    const committed = [0, 1, 2].map((i) => usage.recordGrouped(row(i)))
    expect(new Set(committed).size).toBe(1)
    expect(count(reader)).toBe(0)
    await committed[0]
    expect(count(reader)).toBe(3)
    // The next turn is a commit of its own.
    const next = usage.recordGrouped(row(3))
    expect(next).not.toBe(committed[0])
    await next
    expect(db.prepare('SELECT request_id FROM usage ORDER BY id').pluck().all()).toEqual(['req-0', 'req-1', 'req-2', 'req-3'])
    reader.close()
    usage.close()
  })

  it('close() commits the turn in progress and resolves its promise', async () => {
    const usage = writer()
    const committed = usage.recordGrouped(row(0))
    usage.close()
    expect(count()).toBe(1)
    await committed
    expect(count()).toBe(1)
  })

  it('a turn whose commit fails keeps its rows, in order behind the rows kept before, and still resolves', async () => {
    const usage = writer()
    const release = holdWriteLock()
    usage.record(row(0))
    await Promise.all([usage.recordGrouped(row(1)), usage.recordGrouped(row(2))])
    expect(count()).toBe(0)
    expect(logs).toEqual([expect.objectContaining({ msg: 'writing usage rows failed; keeping them for the next try', kept: 1 })])
    release()
    await usage.recordGrouped(row(3))
    expect(count()).toBe(0)
    usage.flush()
    expect(db.prepare('SELECT request_id FROM usage ORDER BY id').pluck().all()).toEqual(['req-0', 'req-1', 'req-2', 'req-3'])
    usage.close()
  })
})
