import { randomBytes } from 'node:crypto'
import path from 'node:path'
import Database from 'better-sqlite3'
import { pino, type Logger } from 'pino'
import { createSqliteCache } from './cache.js'
import { createChatRepo } from './chats.js'
import { acquireLock } from './lock.js'
import { migrate } from './migrations.js'
import { createKeyRepo } from './keys.js'
import { createModelRepo } from './models.js'
import { createOrgRepo, createUserRepo } from './orgs.js'
import { createPidRepo } from './pids.js'
import { createRouteRepo } from './routes.js'
import { createSessionRepo } from './sessions.js'
import { createSettingsRepo } from './settings.js'
import type { Accounts, AccountsDatabase, SettingsRepo, Store } from './types.js'
import { usageReport } from './usage-report.js'
import { createUsageWriter } from './usage.js'
import { makeDataDir } from './data-dir.js'

export interface OpenStoreOptions {
  logger?: Logger
  now?: () => number
}

/**
 * Takes the data-directory lock first (one Cortex per data directory), then opens `cortex.db`
 * (WAL) and migrates it. `close()` flushes usage, closes the database and releases the lock.
 */
export function openStore(dataDir: string, opts: OpenStoreOptions = {}): Store {
  const logger = opts.logger ?? pino({ level: 'silent' })
  const now = opts.now ?? Date.now
  makeDataDir(dataDir)
  const releaseLock = acquireLock(dataDir)
  let db: Database.Database | undefined
  try {
    db = connect(dataDir, now, logger)
    const usage = createUsageWriter(db, { logger })
    const openDb = db
    const settings = createSettingsRepo(db)
    const chats = createChatRepo(db, now)
    // Only one Cortex opens a data directory (the lock above): an answer still marked streaming lost its stream.
    chats.cutOffInterrupted()
    let closed = false
    return {
      instanceId: instanceId(settings),
      cache: createSqliteCache(db, logger),
      chats,
      models: createModelRepo(db, now),
      routes: createRouteRepo(db, now),
      pids: createPidRepo(db),
      sessions: createSessionRepo(db),
      settings,
      usage,
      usageReport: (query) => usageReport(openDb, query),
      ...accounts(db, now),
      close() {
        if (closed) return
        closed = true
        try {
          usage.close()
          openDb.close()
        } finally {
          releaseLock()
        }
      },
    }
  } catch (err) {
    db?.close()
    releaseLock()
    throw err
  }
}

/**
 * Opens `cortex.db` without the data-directory lock, for the CLI's `keys` and `orgs` commands while `cortex serve`
 * may be running: WAL lets both read, busy_timeout makes a writer wait for the other's transaction, and the gateway
 * reads keys from the database on every request, so what the CLI writes applies at once. Migrates like openStore.
 */
export function openDatabase(dataDir: string, opts: OpenStoreOptions = {}): AccountsDatabase {
  const now = opts.now ?? Date.now
  makeDataDir(dataDir)
  const db = connect(dataDir, now, opts.logger ?? pino({ level: 'silent' }))
  try {
    return { ...accounts(db, now), close: () => db.close() }
  } catch (err) {
    db.close()
    throw err
  }
}

function connect(dataDir: string, now: () => number, logger: Logger): Database.Database {
  const db = new Database(path.join(dataDir, 'cortex.db'))
  try {
    // First: another process (serve beside a CLI command) may hold the write lock while the others run.
    db.pragma('busy_timeout = 5000')
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    const migrated = migrate(db, { dataDir, now })
    if (migrated.from !== migrated.to) logger.info(migrated, 'database migrated')
    return db
  } catch (err) {
    db.close()
    throw err
  }
}

function accounts(db: Database.Database, now: () => number): Accounts {
  return { keys: createKeyRepo(db, now), orgs: createOrgRepo(db, now), users: createUserRepo(db, now) }
}

/** Made at the first open of a data directory and kept in its settings: the same id after every restart. */
function instanceId(settings: SettingsRepo): string {
  const known = settings.get('instance_id')
  if (known) return known
  const id = randomBytes(6).toString('hex')
  settings.set('instance_id', id)
  return id
}
