import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto'
import type Database from 'better-sqlite3'
import type { DeletableUserRepo, OrgRecord, OrgRepo, UserRecord, UserRole } from '../auth/types.js'
import { checkName } from '../auth/keys.js'
import { CortexError } from '../contract/errors.js'

interface OrgRow {
  id: string
  name: string
  created_at: number
}

/** The `orgs` table. Names are what people type (`--org acme`); ids are what keys and users point at. */
export function createOrgRepo(db: Database.Database, now: () => number): OrgRepo {
  const insert = db.prepare<[OrgRow]>('INSERT INTO orgs (id, name, created_at) VALUES (@id, @name, @created_at)')
  const byId = db.prepare<[string], OrgRow>('SELECT id, name, created_at FROM orgs WHERE id = ?')
  const byName = db.prepare<[string], OrgRow>('SELECT id, name, created_at FROM orgs WHERE name = ?')
  const all = db.prepare<[], OrgRow>('SELECT id, name, created_at FROM orgs ORDER BY name')
  const toOrg = (row: OrgRow): OrgRecord => ({ id: row.id, name: row.name, createdAt: row.created_at })
  return {
    create(name) {
      checkName(name)
      const row = { id: `org_${randomBytes(6).toString('hex')}`, name, created_at: now() }
      try {
        insert.run(row)
      } catch (err) {
        if (isUnique(err, 'orgs.name'))
          throw new CortexError('invalid_request', `an organization named "${name}" already exists`, { param: 'name' })
        throw err
      }
      return toOrg(row)
    },
    get(idOrName) {
      const row = byId.get(idOrName) ?? byName.get(idOrName)
      return row && toOrg(row)
    },
    list: () => all.all().map(toOrg),
  }
}

interface UserRow {
  id: string
  org_id: string
  name: string
  role: UserRole
  password_hash: string
  created_at: number
}

/** The `users` table: people who sign in to the web UI, each in one organization. */
export function createUserRepo(db: Database.Database, now: () => number): DeletableUserRepo {
  const insert = db.prepare<[UserRow]>(`
    INSERT INTO users (id, org_id, name, role, password_hash, created_at)
    VALUES (@id, @org_id, @name, @role, @password_hash, @created_at)`)
  // A deleted user's row stays (revoked keys and usage rows name it) but is no one: not found, not listed, no sign-in.
  const byId = db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ? AND deleted_at IS NULL')
  const byName = db.prepare<[string], UserRow>('SELECT * FROM users WHERE name = ? AND deleted_at IS NULL')
  const all = db.prepare<[], UserRow>('SELECT * FROM users WHERE deleted_at IS NULL ORDER BY name')
  const inOrg = db.prepare<[string], UserRow>('SELECT * FROM users WHERE org_id = ? AND deleted_at IS NULL ORDER BY name')
  const markDeleted = db.prepare<[number, string]>('UPDATE users SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL')
  const toUser = (row: UserRow): UserRecord => ({
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    role: row.role,
    createdAt: row.created_at,
  })
  let unknownUserHash: string | undefined
  return {
    create({ orgId, name, role, password }) {
      checkName(name)
      const row: UserRow = {
        id: `usr_${randomBytes(6).toString('hex')}`,
        org_id: orgId,
        name,
        role,
        password_hash: hashPassword(password),
        created_at: now(),
      }
      try {
        insert.run(row)
      } catch (err) {
        if (isUnique(err, 'users.name'))
          throw new CortexError('invalid_request', `a user named "${name}" already exists`, { param: 'name' })
        throw err
      }
      return toUser(row)
    },
    get(idOrName) {
      const row = byId.get(idOrName) ?? byName.get(idOrName)
      return row && toUser(row)
    },
    list: (orgId) => (orgId === undefined ? all.all() : inOrg.all(orgId)).map(toUser),
    remove: (id) => markDeleted.run(now(), id).changes > 0,
    verify(name, password) {
      const row = byName.get(name)
      // An unknown name costs the same scrypt as a wrong password, so timing does not tell which names exist.
      unknownUserHash ??= hashPassword(randomBytes(16).toString('hex'))
      const matches = verifyPassword(password, row?.password_hash ?? unknownUserHash)
      return row && matches ? toUser(row) : undefined
    },
  }
}

// Node's defaults (N = 2^14, r = 8, p = 1: 16 MiB, tens of milliseconds), kept in each hash so they can be raised.
const SCRYPT = { N: 16384, r: 8, p: 1 }
const KEY_LENGTH = 32

/** `scrypt$N$r$p$salt$hash`, salt and hash in base64. */
function hashPassword(password: string): string {
  const salt = randomBytes(16)
  const hash = scryptSync(password, salt, KEY_LENGTH, SCRYPT)
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), hash.toString('base64')].join('$')
}

function verifyPassword(password: string, stored: string): boolean {
  const [scheme, n, r, p, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || salt === undefined || hash === undefined) return false
  const expected = Buffer.from(hash, 'base64')
  const actual = scryptSync(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  })
  return timingSafeEqual(actual, expected)
}

function isUnique(err: unknown, column: string): boolean {
  return err instanceof Error && err.message === `UNIQUE constraint failed: ${column}`
}
