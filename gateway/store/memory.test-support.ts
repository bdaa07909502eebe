import Database from 'better-sqlite3'
import type { UsageReport, UsageReportQuery } from '../contract/index.js'
import { createKeyRepo } from './keys.js'
import { migrate } from './migrations.js'
import { createOrgRepo, createUserRepo } from './orgs.js'
import type { Accounts } from './types.js'
import { usageReport } from './usage-report.js'

/** The real repos on an in-memory SQLite database, for suites that need accounts but no data directory. */
export function memoryAccounts(now: () => number = Date.now): Accounts & {
  db: Database.Database
  usageReport(query: UsageReportQuery): UsageReport
} {
  const db = new Database(':memory:')
  // A fresh database takes no backup, so the data directory is never touched.
  migrate(db, { dataDir: '/nonexistent', now })
  return {
    db,
    keys: createKeyRepo(db, now),
    orgs: createOrgRepo(db, now),
    users: createUserRepo(db, now),
    usageReport: (query) => usageReport(db, query),
  }
}
