import type { SessionUser } from '../contract/console.js'
import type { ApiKeyRecord } from '../contract/keys.js'

/** A key to create, validated (auth/keys.ts parseKeySpec): a record without what minting and the repo make. */
export interface NewKey extends Omit<ApiKeyRecord, 'id' | 'hash' | 'prefix' | 'createdAt' | 'revokedAt'> {
  /** The operator's own key; else one is generated (auth/keys.ts mintKey). */
  secret?: string
}

/** What the repo stores for a new key: the hash and prefix of its secret, never the secret. */
export type KeyInsert = Omit<ApiKeyRecord, 'id' | 'createdAt' | 'revokedAt'>

export interface KeyRepo {
  /** Stores a minted key (auth/keys.ts createKey). Throws CortexError invalid_request (param name / key) when the
   *  name or the key is already taken. */
  insert(key: KeyInsert): ApiKeyRecord
  /** By the key's hash, revoked and expired ones included (the caller says why it refuses). */
  findByHash(hash: string): ApiKeyRecord | undefined
  /** By id, else by name. */
  get(idOrName: string): ApiKeyRecord | undefined
  list(): ApiKeyRecord[]
  /** Marks the key revoked (kept, so usage rows still name it); undefined when no such key. Revoking twice keeps
   *  the first time. */
  revoke(idOrName: string): ApiKeyRecord | undefined
  /** Tokens (prompt + completion) each key used since `ts` (epoch ms), from the usage table: daily limits at start. */
  tokensSince(ts: number): Map<string, number>
}

export interface OrgRecord {
  id: string
  name: string
  createdAt: number
}

export interface OrgRepo {
  /** Throws CortexError invalid_request (param name) when the name is taken. */
  create(name: string): OrgRecord
  /** By id, else by name. */
  get(idOrName: string): OrgRecord | undefined
  list(): OrgRecord[]
}

/** The users table's repo, which can also delete (DELETE /admin/api/users/{id}). */
export interface DeletableUserRepo extends UserRepo {
  /** Marks the user deleted (the row stays for the keys and usage rows that name it): no longer found, listed or
   *  signed in. False when there was no such user. */
  remove(id: string): boolean
}

export type UserRole = 'admin' | 'member'

export interface UserRecord {
  id: string
  orgId: string
  name: string
  role: UserRole
  createdAt: number
}

export interface UserRepo {
  /** The password is stored as a scrypt hash (salted, parameters kept with it) for the web UI's login. */
  create(user: { orgId: string; name: string; role: UserRole; password: string }): UserRecord
  /** By id, else by name. */
  get(idOrName: string): UserRecord | undefined
  list(orgId?: string): UserRecord[]
  /** The user when the password matches its hash, else undefined (same time either way for a known user). */
  verify(name: string, password: string): UserRecord | undefined
}

/** Who called the admin API: the admin token or an admin's console session (everything), an API key with
 *  `admin:read` (reads of its own organization, or of itself when it has none), or a member's console session (model
 *  states, their own keys, their organization's usage). */
export type AdminCaller =
  { kind: 'admin' } | { kind: 'key'; key: ApiKeyRecord } | { kind: 'member'; user: SessionUser & { orgId: string } }
