import { randomBytes } from 'node:crypto'
import type Database from 'better-sqlite3'
import type { KeyRepo } from '../auth/types.js'
import { CortexError } from '../contract/errors.js'
import type { ApiKeyRecord, Scope } from '../contract/keys.js'

interface KeyRow {
  id: string
  name: string
  hash: string
  prefix: string
  org_id: string | null
  user_id: string | null
  models: string | null
  scopes: string
  ips: string | null
  tags: string | null
  cache: number | null
  rpm: number | null
  tpm: number | null
  concurrency: number | null
  daily_tokens: number | null
  created_at: number
  expires_at: number | null
  revoked_at: number | null
}

const COLUMNS = [
  'id, name, hash, prefix, org_id, user_id, models, scopes, ips, tags, cache',
  'rpm, tpm, concurrency, daily_tokens, created_at, expires_at, revoked_at',
].join(', ')

/**
 * The `api_keys` table: hashes only, the key itself is minted by auth/keys.ts and never stored. Lookups by hash (one
 * per /v1 request) are cached, and the cache is dropped whenever the database changed: by this connection's own
 * writes, or by another's (`PRAGMA data_version` moves when another connection commits), so a key revoked by
 * `cortex keys revoke` in another process is refused at the next request.
 */
export function createKeyRepo(db: Database.Database, now: () => number): KeyRepo {
  const insert = db.prepare<[KeyRow]>(`
    INSERT INTO api_keys (${COLUMNS})
    VALUES (@id, @name, @hash, @prefix, @org_id, @user_id, @models, @scopes, @ips, @tags, @cache, @rpm, @tpm, @concurrency, @daily_tokens,
            @created_at, @expires_at, @revoked_at)`)
  // The UNIQUE constraint on hash is its index: one indexed lookup per request.
  const byHash = db.prepare<[string], KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE hash = ?`)
  const byId = db.prepare<[string], KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = ?`)
  const byName = db.prepare<[string], KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE name = ?`)
  const all = db.prepare<[], KeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY name`)
  const markRevoked = db.prepare<[number, string]>('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
  const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck()
  // Found keys only: a flood of wrong keys must not grow it. Records are frozen, since every request shares them.
  const cache = new Map<string, ApiKeyRecord>()
  let seenVersion = dataVersion.get()
  const tokens = db.prepare<[number], { key_id: string; tokens: number }>(`
    SELECT key_id, SUM(coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0)) AS tokens
    FROM usage WHERE ts >= ? AND key_id IS NOT NULL GROUP BY key_id`)

  const get = (idOrName: string): ApiKeyRecord | undefined => {
    const row = byId.get(idOrName) ?? byName.get(idOrName)
    return row && toRecord(row)
  }
  const revoke = db.transaction((idOrName: string): ApiKeyRecord | undefined => {
    const row = byId.get(idOrName) ?? byName.get(idOrName)
    if (!row) return undefined
    markRevoked.run(now(), row.id)
    cache.clear()
    return toRecord(byId.get(row.id)!)
  })

  return {
    insert(key) {
      const record: ApiKeyRecord = { ...key, id: `key_${randomBytes(6).toString('hex')}`, createdAt: now(), revokedAt: null }
      try {
        insert.run(toRow(record))
        cache.clear()
      } catch (err) {
        throw taken(err, key.name) ?? err
      }
      return record
    },
    findByHash: (hash) => {
      const version = dataVersion.get()
      if (version !== seenVersion) {
        cache.clear()
        seenVersion = version
      }
      const cached = cache.get(hash)
      if (cached !== undefined) return cached
      const row = byHash.get(hash)
      if (row === undefined) return undefined
      const record = frozen(toRecord(row))
      cache.set(hash, record)
      return record
    },
    get,
    list: () => all.all().map(toRecord),
    revoke: (idOrName) => revoke(idOrName),
    tokensSince: (ts) => new Map(tokens.all(ts).map((r) => [r.key_id, r.tokens])),
  }
}

function frozen(record: ApiKeyRecord): ApiKeyRecord {
  for (const list of [record.models, record.scopes, record.ips, record.tags]) if (list !== null) Object.freeze(list)
  Object.freeze(record.limits)
  return Object.freeze(record)
}

/** The invalid_request for a UNIQUE violation on the name or the key; undefined for any other error. */
function taken(err: unknown, name: string): CortexError | undefined {
  const message = err instanceof Error ? err.message : ''
  if (message.includes('UNIQUE constraint failed: api_keys.name'))
    return new CortexError('invalid_request', `an API key named "${name}" already exists`, { param: 'name' })
  if (message.includes('UNIQUE constraint failed: api_keys.hash'))
    return new CortexError('invalid_request', 'another API key already uses this key: choose a different one', { param: 'key' })
  return undefined
}

function toRow(r: ApiKeyRecord): KeyRow {
  const json = (v: unknown[] | null) => (v === null ? null : JSON.stringify(v))
  return {
    id: r.id,
    name: r.name,
    hash: r.hash,
    prefix: r.prefix,
    org_id: r.orgId,
    user_id: r.userId,
    models: json(r.models),
    scopes: JSON.stringify(r.scopes),
    ips: json(r.ips),
    tags: r.tags.length === 0 ? null : JSON.stringify(r.tags),
    cache: r.cache === false ? 0 : null,
    rpm: r.limits.rpm,
    tpm: r.limits.tpm,
    concurrency: r.limits.concurrency,
    daily_tokens: r.limits.dailyTokens,
    created_at: r.createdAt,
    expires_at: r.expiresAt,
    revoked_at: r.revokedAt,
  }
}

function toRecord(row: KeyRow): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    hash: row.hash,
    prefix: row.prefix,
    orgId: row.org_id,
    userId: row.user_id,
    models: row.models === null ? null : (JSON.parse(row.models) as string[]),
    scopes: JSON.parse(row.scopes) as Scope[],
    limits: { rpm: row.rpm, tpm: row.tpm, concurrency: row.concurrency, dailyTokens: row.daily_tokens },
    ips: row.ips === null ? null : (JSON.parse(row.ips) as string[]),
    tags: row.tags === null ? [] : (JSON.parse(row.tags) as string[]),
    ...(row.cache === 0 && { cache: false as const }),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  }
}
