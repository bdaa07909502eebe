import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { pino, type Logger } from 'pino'
import { acquireLock } from './lock.js'
import { migrate } from './migrations.js'
import { createModelRepo } from './models.js'
import { createPidRepo } from './pids.js'
import { createSettingsRepo } from './settings.js'
import type { SettingsRepo, Store } from './types.js'
import { createUsageWriter } from './usage.js'

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
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const releaseLock = acquireLock(dataDir)
  let db: Database.Database | undefined
  try {
    db = new Database(path.join(dataDir, 'cortex.db'))
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 5000')
    const migrated = migrate(db, { dataDir, now })
    if (migrated.from !== migrated.to) logger.info(migrated, 'database migrated')
    const usage = createUsageWriter(db, { logger })
    const openDb = db
    const settings = createSettingsRepo(db)
    let closed = false
    return {
      instanceId: instanceId(settings),
      models: createModelRepo(db, now),
      pids: createPidRepo(db),
      settings,
      usage,
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

/** Made at the first open of a data directory and kept in its settings: the same id after every restart. */
function instanceId(settings: SettingsRepo): string {
  const known = settings.get('instance_id')
  if (known) return known
  const id = randomBytes(6).toString('hex')
  settings.set('instance_id', id)
  return id
}
