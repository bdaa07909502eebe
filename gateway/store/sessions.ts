import type Database from 'better-sqlite3'
import type { SessionRecord, SessionRepo } from '../auth/sessions.js'

interface SessionRow {
  id: string
  secret_hash: string
  user_id: string | null
  created_at: number
  last_seen_at: number
  expires_at: number
  user_agent: string | null
  address: string | null
}

const toRecord = (row: SessionRow): SessionRecord => ({
  id: row.id,
  secretHash: row.secret_hash,
  userId: row.user_id,
  createdAt: row.created_at,
  lastSeenAt: row.last_seen_at,
  expiresAt: row.expires_at,
  userAgent: row.user_agent,
  address: row.address,
})

/** The `sessions` table: console sign-ins, found by the hash of the cookie's secret. */
export function createSessionRepo(db: Database.Database): SessionRepo {
  const insert = db.prepare<[SessionRow]>(`
    INSERT INTO sessions (id, secret_hash, user_id, created_at, last_seen_at, expires_at, user_agent, address)
    VALUES (@id, @secret_hash, @user_id, @created_at, @last_seen_at, @expires_at, @user_agent, @address)`)
  const byHash = db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE secret_hash = ?')
  const touch = db.prepare<[number, number, string]>('UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id = ?')
  const live = db.prepare<[number], SessionRow>('SELECT * FROM sessions WHERE expires_at > ? ORDER BY last_seen_at DESC')
  const remove = db.prepare<[string]>('DELETE FROM sessions WHERE id = ?')
  const expired = db.prepare<[number]>('DELETE FROM sessions WHERE expires_at <= ?')
  return {
    insert(rec) {
      insert.run({
        id: rec.id,
        secret_hash: rec.secretHash,
        user_id: rec.userId,
        created_at: rec.createdAt,
        last_seen_at: rec.lastSeenAt,
        expires_at: rec.expiresAt,
        user_agent: rec.userAgent,
        address: rec.address,
      })
    },
    findBySecretHash(hash) {
      const row = byHash.get(hash)
      return row && toRecord(row)
    },
    touch: (id, lastSeenAt, expiresAt) => void touch.run(lastSeenAt, expiresAt, id),
    list: (now) => live.all(now).map(toRecord),
    remove: (id) => remove.run(id).changes > 0,
    removeExpired: (now) => expired.run(now).changes,
  }
}
