import type Database from 'better-sqlite3'
import type { Logger } from 'pino'
import { answerBytes, type CachedAnswer, type CacheStore } from '../proxy/cache-store.js'
import type { Usage } from '../proxy/usage.js'

interface Row {
  kind: 'json' | 'sse'
  content_type: string
  body: Buffer
  meta: string
  bytes: number
  scope: string
  expires_at: number | null
}

interface Meta {
  usage: Usage | null
  upstreamModel: string | null
}

/**
 * The completion cache in the data directory's database (migration 6). Each scope (a model's or route's cache) is kept
 * within its maxBytes by dropping its least recently used answers; the bytes per scope are counted in memory, from the
 * table at start. A failing disk costs the cache, never the request: errors are logged and read as a miss.
 */
export function createSqliteCache(db: Database.Database, logger: Logger): CacheStore {
  const select = db.prepare<[string], Row>(
    'SELECT kind, content_type, body, meta, bytes, scope, expires_at FROM completion_cache WHERE key = ?',
  )
  const touch = db.prepare<[number, string]>('UPDATE completion_cache SET used_at = ? WHERE key = ?')
  const remove = db.prepare<[string], { scope: string; bytes: number }>(
    'DELETE FROM completion_cache WHERE key = ? RETURNING scope, bytes',
  )
  const insert = db.prepare(`
    INSERT INTO completion_cache (key, scope, kind, content_type, body, meta, bytes, created_at, expires_at, used_at)
    VALUES (@key, @scope, @kind, @contentType, @body, @meta, @bytes, @now, @expiresAt, @now)`)
  const oldest = db.prepare<[string], { key: string }>(
    'SELECT key FROM completion_cache WHERE scope = ? ORDER BY used_at, rowid LIMIT 64',
  )
  const sums = db.prepare<[], { scope: string; bytes: number }>(
    'SELECT scope, sum(bytes) AS bytes FROM completion_cache GROUP BY scope',
  )
  const scopeBytes = new Map(sums.all().map((r) => [r.scope, r.bytes]))

  const drop = (key: string) => {
    const gone = remove.get(key)
    if (gone !== undefined) scopeBytes.set(gone.scope, (scopeBytes.get(gone.scope) ?? 0) - gone.bytes)
  }

  const store = db.transaction(
    (key: string, scope: string, answer: CachedAnswer, maxBytes: number, expiresAt: number | null, now: number) => {
      drop(key)
      const bytes = answerBytes(answer)
      const meta: Meta = { usage: answer.usage, upstreamModel: answer.upstreamModel }
      insert.run({
        key,
        scope,
        kind: answer.kind,
        contentType: answer.contentType,
        body: answer.body,
        meta: JSON.stringify(meta),
        bytes,
        now,
        expiresAt,
      })
      scopeBytes.set(scope, (scopeBytes.get(scope) ?? 0) + bytes)
      while ((scopeBytes.get(scope) ?? 0) > maxBytes) {
        const victims = oldest.all(scope).filter((v) => v.key !== key)
        if (victims.length === 0) break
        for (const v of victims) {
          drop(v.key)
          if ((scopeBytes.get(scope) ?? 0) <= maxBytes) break
        }
      }
    },
  )

  return {
    async get(key, now) {
      try {
        const row = select.get(key)
        if (row === undefined) return null
        if (row.expires_at !== null && row.expires_at <= now) {
          drop(key)
          return null
        }
        touch.run(now, key)
        const meta = JSON.parse(row.meta) as Meta
        return {
          kind: row.kind,
          contentType: row.content_type,
          body: row.body,
          usage: meta.usage,
          upstreamModel: meta.upstreamModel,
        }
      } catch (err) {
        logger.error({ err }, 'reading the completion cache failed; answering from the engine')
        return null
      }
    },
    put(key, scope, answer, policy, now) {
      if (answerBytes(answer) > policy.maxBytes) return
      try {
        store(key, scope, answer, policy.maxBytes, policy.ttlMs === 0 ? null : now + policy.ttlMs, now)
      } catch (err) {
        logger.error({ err }, 'keeping an answer in the completion cache failed; it will be asked of the engine again')
      }
    },
    bytes: () => [...scopeBytes.values()].reduce((a, b) => a + b, 0),
    close: async () => {},
  }
}
