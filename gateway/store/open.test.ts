import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isAlive } from './lock.js'
import { openDatabase, openStore } from './open.js'
import { usageRecord } from '../engines/usage.test-support.js'
import { migrations } from './migrations.js'

const latest = migrations.at(-1)!.version

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-store-'))
})
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

const lockFile = () => path.join(dir, 'cortex.lock')

describe('openStore', () => {
  it.each([
    ['a file', (file: string) => file, 'is a file, not a folder'],
    ['under a file', (file: string) => path.join(file, 'data'), 'is under a file, not a folder'],
  ])('refuses a data directory that is %s, saying so and naming it', (_what, dataDir, says) => {
    const file = path.join(dir, 'not-a-folder')
    fs.writeFileSync(file, 'kept')
    expect(() => openStore(dataDir(file))).toThrow(`the data directory ${dataDir(file)} ${says}: give --data-dir a folder`)
    expect(() => openDatabase(dataDir(file))).toThrow(says)
    expect(fs.readFileSync(file, 'utf8')).toBe('kept')
  })

  it('creates the data directory with mode 0700 and the database in WAL mode', () => {
    const dataDir = path.join(dir, 'nested', 'data')
    const store = openStore(dataDir)
    store.close()
    expect(fs.statSync(dataDir).mode & 0o777).toBe(0o700)
    const db = new Database(path.join(dataDir, 'cortex.db'), { readonly: true })
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('user_version', { simple: true })).toBe(latest)
    db.close()
  })

  it('gives the data directory an instance id that stays the same across opens', () => {
    const first = openStore(dir)
    const id = first.instanceId
    first.close()
    expect(id).toMatch(/^[0-9a-f]{12}$/)
    const again = openStore(dir)
    expect(again.instanceId).toBe(id)
    again.close()
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-other-'))
    const elsewhere = openStore(other)
    expect(elsewhere.instanceId).not.toBe(id)
    elsewhere.close()
    fs.rmSync(other, { recursive: true, force: true })
  })

  it('holds the lock with its pid while open and releases it on close', () => {
    const store = openStore(dir)
    expect(fs.readFileSync(lockFile(), 'utf8')).toBe(String(process.pid))
    store.close()
    expect(fs.existsSync(lockFile())).toBe(false)
    openStore(dir).close()
  })

  it('refuses a second open of the same data directory', () => {
    const store = openStore(dir)
    try {
      expect(() => openStore(dir)).toThrow(
        `another Cortex (pid ${process.pid}) is using the data directory ${dir}; stop it or use --data-dir`,
      )
    } finally {
      store.close()
    }
  })

  it('refuses a lock held by another live process', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' })
    try {
      fs.writeFileSync(lockFile(), String(child.pid))
      expect(() => openStore(dir)).toThrow(`another Cortex (pid ${child.pid}) is using the data directory ${dir}`)
      expect(fs.readFileSync(lockFile(), 'utf8')).toBe(String(child.pid))
    } finally {
      child.kill()
      await new Promise((resolve) => child.once('exit', resolve))
    }
  })

  it('takes over a stale lock left by a dead process', () => {
    const { pid } = spawnSync(process.execPath, ['-e', ''])
    expect(isAlive(pid!)).toBe(false)
    fs.writeFileSync(lockFile(), String(pid))
    const store = openStore(dir)
    expect(fs.readFileSync(lockFile(), 'utf8')).toBe(String(process.pid))
    store.close()
  })

  it('takes over a lock with our own pid that this process does not hold (a restarted container is pid 1 again)', () => {
    fs.mkdirSync(dir, { recursive: true })
    fs.writeFileSync(lockFile(), String(process.pid))
    const store = openStore(dir)
    expect(fs.readFileSync(lockFile(), 'utf8')).toBe(String(process.pid))
    store.close()
    expect(fs.existsSync(lockFile())).toBe(false)
  })

  it('takes over an empty lock file (a crash between create and write)', () => {
    fs.writeFileSync(lockFile(), '')
    openStore(dir).close()
  })

  it('releases the lock when opening fails', () => {
    const db = new Database(path.join(dir, 'cortex.db'))
    db.pragma('user_version = 7')
    db.close()
    expect(() => openStore(dir)).toThrow(
      `database schema v7 is newer than this Cortex (knows v${latest}): upgrade Cortex or use another --data-dir`,
    )
    expect(fs.existsSync(lockFile())).toBe(false)
  })

  it('flushes usage on close, and close twice is harmless', () => {
    const store = openStore(dir)
    store.usage.record(usageRecord({ ts: 1, requestId: 'r1' }))
    store.close()
    store.close()
    const db = new Database(path.join(dir, 'cortex.db'), { readonly: true })
    expect(db.prepare('SELECT request_id FROM usage').all()).toEqual([{ request_id: 'r1' }])
    db.close()
  })
})

describe('openDatabase', () => {
  it('opens a data directory that a running store holds, and each sees what the other writes at once', () => {
    const store = openStore(dir)
    const cli = openDatabase(dir)
    try {
      const org = cli.orgs.create('acme')
      expect(store.orgs.get('acme')).toEqual(org)
      store.orgs.create('globex')
      expect(cli.orgs.list().map((o) => o.name)).toEqual(['acme', 'globex'])
      expect(fs.readFileSync(lockFile(), 'utf8')).toBe(String(process.pid))
    } finally {
      cli.close()
      store.close()
    }
  })

  it('creates and migrates a data directory no store has opened yet, and takes no lock', () => {
    const dataDir = path.join(dir, 'fresh')
    const cli = openDatabase(dataDir)
    expect(cli.keys.list()).toEqual([])
    expect(fs.existsSync(path.join(dataDir, 'cortex.lock'))).toBe(false)
    cli.close()
    expect(fs.statSync(dataDir).mode & 0o777).toBe(0o700)
    const db = new Database(path.join(dataDir, 'cortex.db'), { readonly: true })
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('user_version', { simple: true })).toBe(latest)
    db.close()
  })

  it('refuses a database newer than the code', () => {
    const db = new Database(path.join(dir, 'cortex.db'))
    db.pragma('user_version = 7')
    db.close()
    expect(() => openDatabase(dir)).toThrow(`database schema v7 is newer than this Cortex (knows v${latest})`)
  })
})
