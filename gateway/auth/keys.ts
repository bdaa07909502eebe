import { createHash, randomBytes } from 'node:crypto'
import { isIP } from 'node:net'
import { parseDuration } from '../config/duration.js'
import { CortexError, quoted } from '../contract/errors.js'
import {
  type ApiKeyRecord,
  type ApiKeyView,
  DEFAULT_SCOPES,
  type KeyCreateBody,
  type KeyLimits,
  type Scope,
  SCOPES,
} from '../contract/keys.js'
import type { OrgView } from '../contract/orgs.js'
import type { KeyRepo, NewKey, OrgRecord, OrgRepo, UserRecord, UserRepo } from './types.js'

/** Hex SHA-256 of the whole key string: what the store keeps and looks keys up by. */
export function hashKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

/** `sk-cortex-` and 32 random bytes in base64url (256 bits). */
function generateKey(): string {
  return `sk-cortex-${randomBytes(32).toString('base64url')}`
}

/**
 * The first 14 characters: `sk-cortex-` and 4 random ones for a generated key. A short custom key shows at most a
 * third of itself, so that the listing never gives most of a secret away.
 */
function prefixOf(secret: string): string {
  return `${secret.slice(0, Math.min(14, Math.floor(secret.length / 3)))}…`
}

/** Makes the key (or takes the operator's own) and stores only its hash; the key is returned this once. */
export function createKey(repo: Pick<KeyRepo, 'insert'>, spec: NewKey): { record: ApiKeyRecord; secret: string } {
  const { secret = generateKey(), ...rest } = spec
  return { record: repo.insert({ ...rest, hash: hashKey(secret), prefix: prefixOf(secret) }), secret }
}

/**
 * Checks a key to create, as `cortex keys create` and `POST /admin/api/keys` both take it, and resolves its user and
 * organization. Throws CortexError invalid_request with `param` at the field and a message that says what to fix;
 * a custom key is never repeated in a message.
 */
export function parseKeySpec(body: KeyCreateBody, accounts: { orgs: OrgRepo; users: UserRepo }, now: number): NewKey {
  const name = checkName(body.name)
  const { orgId, userId } = ownerOf(body, accounts)
  return {
    name,
    orgId,
    userId,
    models: body.models === undefined ? null : parseModels(body.models),
    scopes: parseScopes(body.scopes ?? DEFAULT_SCOPES),
    limits: {
      rpm: limit(body.rpm, 'rpm'),
      tpm: limit(body.tpm, 'tpm'),
      concurrency: limit(body.concurrency, 'concurrency'),
      dailyTokens: limit(body.dailyTokens, 'dailyTokens'),
    },
    ips: body.ips === undefined ? null : unique(body.ips.map(parseCidr)),
    tags: unique(body.tags ?? []),
    ...(body.cache === false && { cache: false as const }),
    expiresAt: body.expires === undefined ? null : now + parseExpiry(body.expires),
    ...(body.key !== undefined && { secret: checkSecret(body.key) }),
  }
}

/** A user's key takes the user's organization; an `org` naming another one is a mistake, not an override. */
function ownerOf(body: KeyCreateBody, { orgs, users }: { orgs: OrgRepo; users: UserRepo }) {
  const org = body.org === undefined ? undefined : findOrg(body.org, orgs)
  if (body.user === undefined) return { orgId: org?.id ?? null, userId: null }
  const user = findUser(body.user, users)
  if (org !== undefined && org.id !== user.orgId) {
    const userOrg = orgs.get(user.orgId)?.name ?? user.orgId
    const fix = `a key takes its user's organization, so give none or "${userOrg}"`
    throw invalid('org', `user "${user.name}" is in "${userOrg}", not "${org.name}": ${fix}`)
  }
  return { orgId: user.orgId, userId: user.id }
}

/** A key as the admin API and `cortex keys list --json` show it, with its organization's and user's names. */
export function keyView(record: ApiKeyRecord, names: { org: string | null; user: string | null }, now: number): ApiKeyView {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
  return {
    id: record.id,
    name: record.name,
    prefix: record.prefix,
    org: names.org,
    user: names.user,
    models: record.models,
    scopes: record.scopes,
    limits: record.limits,
    ips: record.ips,
    tags: record.tags,
    ...(record.cache === false && { cache: false as const }),
    createdAt: new Date(record.createdAt).toISOString(),
    expiresAt: iso(record.expiresAt),
    revokedAt: iso(record.revokedAt),
    state: keyState(record, now),
  }
}

/** An organization as the admin API and `cortex orgs list --json` show it. */
export function orgView(org: OrgRecord): OrgView {
  return { id: org.id, name: org.name, createdAt: new Date(org.createdAt).toISOString() }
}

function keyState(record: ApiKeyRecord, now: number): ApiKeyView['state'] {
  if (record.revokedAt !== null) return 'revoked'
  if (record.expiresAt !== null && record.expiresAt <= now) return 'expired'
  return 'active'
}

function invalid(param: string, message: string): CortexError {
  return new CortexError('invalid_request', `${param}: ${message}`, { param })
}

// Control characters (C0, DEL, C1) never belong in a name that is printed in tables and logs.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

/** A key's, an organization's or a user's name: 1 to 64 characters, no surrounding spaces, no control characters. */
export function checkName(name: string): string {
  if (name.trim() === '') throw invalid('name', 'expected a non-empty name')
  if (name.trim() !== name) throw invalid('name', 'expected a name without leading or trailing spaces')
  if (name.length > 64) throw invalid('name', `expected at most 64 characters (got ${name.length})`)
  if (CONTROL.test(name)) throw invalid('name', 'expected a name without control characters')
  return name
}

/** An organization by name or id, else invalid_request at `org` naming the ones there are and how to make one. */
export function findOrg(wanted: string, orgs: OrgRepo): OrgRecord {
  const org = orgs.get(wanted)
  if (org) return org
  const names = orgs.list().map((o) => `"${o.name}"`)
  const known = names.length === 0 ? 'there are no organizations yet' : `existing: ${names.join(', ')}`
  // The command names the organization asked for, unless it is too long to be a name anyway.
  const create = `cortex orgs create ${wanted.length <= 64 && /^\S+$/.test(wanted) ? wanted : 'NAME'}`
  throw invalid('org', `no organization ${quoted(wanted)} (${known}); create it with \`${create}\` or POST /admin/api/orgs`)
}

/** A user by name or id, else invalid_request at `user` saying how to create one. */
export function findUser(wanted: string, users: UserRepo): UserRecord {
  const user = users.get(wanted)
  if (user) return user
  throw invalid('user', `no user ${quoted(wanted)}; create one with POST /admin/api/users {org, name, role, password}`)
}

function parseModels(models: string[]): string[] {
  if (models.length === 0 || models.some((m) => m.trim() === ''))
    throw invalid('models', 'expected one or more model names (leave it out to allow every model)')
  return unique(models)
}

function parseScopes(scopes: readonly string[]): Scope[] {
  if (scopes.length === 0) throw invalid('scopes', `expected one or more of ${SCOPES.join(', ')}`)
  const seen = new Set<Scope>()
  for (const scope of scopes) {
    if (!isScope(scope)) throw invalid('scopes', `unknown scope "${scope}" (expected ${SCOPES.join(', ')})`)
    if (seen.has(scope)) throw invalid('scopes', `"${scope}" is listed twice`)
    seen.add(scope)
  }
  return [...seen]
}

function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value)
}

// The admin API's schema checks these already; the CLI checks its flags. This guards any other caller.
function limit(value: number | undefined, param: keyof KeyLimits): number | null {
  if (value === undefined) return null
  if (!Number.isSafeInteger(value) || value < 1) throw invalid(param, `expected a whole number of at least 1 (got ${value})`)
  return value
}

const MAX_EXPIRY_MS = 100 * 365 * 86_400_000

/** Milliseconds from now until the key expires. */
function parseExpiry(expires: string | number): number {
  const future = () =>
    invalid('expires', `a key must expire in the future (got ${JSON.stringify(expires)}); give a duration such as 30d or 12h`)
  // parseDuration calls a negative number malformed and reads 0 as "never"; for a key both are a past expiry.
  if (typeof expires === 'number' ? expires <= 0 : expires.trim().startsWith('-')) throw future()
  let ms: number
  try {
    ms = parseDuration(expires)
  } catch (err) {
    throw invalid('expires', (err as Error).message)
  }
  if (ms <= 0) throw future()
  // Past this a date is not representable (and no key needs to live that long).
  if (ms > MAX_EXPIRY_MS) throw invalid('expires', `expected at most 100 years (got ${JSON.stringify(expires)})`)
  return ms
}

/** An IPv4 or IPv6 CIDR; a plain address becomes a /32 or /128. */
function parseCidr(entry: string): string {
  const text = entry.trim()
  const slash = text.indexOf('/')
  const address = slash === -1 ? text : text.slice(0, slash)
  // A zone id (fe80::1%eth0) names an interface of this host, which a client's address never carries.
  const family = address.includes('%') ? 0 : isIP(address)
  if (family === 0)
    throw invalid('ips', `"${entry}" is not an IP address or CIDR (expected e.g. 10.0.0.0/8, 192.168.1.20 or fd00::/8)`)
  const max = family === 4 ? 32 : 128
  if (slash === -1) return `${address}/${max}`
  const bits = text.slice(slash + 1)
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max)
    throw invalid('ips', `"${entry}" has an invalid prefix length (expected /0 to /${max} for an IPv${family} address)`)
  return `${address}/${Number(bits)}`
}

// Printable ASCII only: the key travels in an Authorization header, where anything else is mangled or refused.
const KEY_CHARS = /^[\x21-\x7e]+$/

/** An operator's own key; never echoed back in a message. */
function checkSecret(key: string): string {
  if (key.length < 20) throw invalid('key', `a key must have at least 20 characters (got ${key.length})`)
  if (key.length > 256) throw invalid('key', `a key must have at most 256 characters (got ${key.length})`)
  if (!KEY_CHARS.test(key))
    throw invalid('key', 'a key must be printable ASCII without spaces or control characters (it is sent in an HTTP header)')
  return key
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)]
}
