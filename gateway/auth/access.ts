import type { IncomingHttpHeaders } from 'node:http'
import { CortexError } from '../contract/errors.js'
import type { Scope } from '../contract/index.js'
import { ipAllowed, isLoopback } from './ip.js'
import { hashKey } from './keys.js'
import type { ApiKeyRecord } from '../contract/keys.js'

export interface AccessOptions {
  /** `auth.required`: every caller needs a key (but see allowLoopbackWithoutKey). */
  required: boolean
  /** `auth.allowLoopbackWithoutKey`: callers on 127.0.0.1 / ::1 may come without one. */
  allowLoopbackWithoutKey: boolean
  /** The key repo's lookup by hash: read on every request, so a revoke from the CLI counts at once. */
  findByHash(hash: string): ApiKeyRecord | undefined
  now?: () => number
}

/** A key is printable ASCII without spaces: what `sk-cortex-…` and any sane operator-given key look like. */
const KEY = /^[\x21-\x7e]+$/
const BEARER = /^Bearer +([\x21-\x7e]+) *$/i

const HOW =
  'send "Authorization: Bearer <key>" or "x-api-key: <key>"; an operator creates keys with `cortex keys create --name <app>`'

const invalid = (message: string) => new CortexError('invalid_api_key', message)

/** The key a request carries, from `Authorization: Bearer` or `x-api-key` (Anthropic's clients); null when none. */
export function presentedKey(headers: IncomingHttpHeaders): string | null {
  const authorization = headers.authorization
  let bearer: string | null = null
  if (authorization !== undefined) {
    const match = BEARER.exec(authorization)
    // The value is never repeated back: it may be a key meant for somewhere else.
    if (match === null) throw invalid(`malformed Authorization header: expected "Bearer <key>"; ${HOW}`)
    bearer = match[1]!
  }
  const header = headers['x-api-key']
  let apiKey: string | null = null
  if (header !== undefined) {
    // Node joins a repeated x-api-key with ", ", which the pattern refuses.
    if (typeof header !== 'string' || !KEY.test(header)) throw invalid(`malformed x-api-key header: expected one key; ${HOW}`)
    apiKey = header
  }
  if (bearer !== null && apiKey !== null && bearer !== apiKey)
    throw invalid('the Authorization and x-api-key headers carry different keys; send one')
  return bearer ?? apiKey
}

/** Throws 401 for a revoked or expired key, 403 for an address outside its allowlist. */
export function checkKey(record: ApiKeyRecord, address: string | undefined, now: number): void {
  if (record.revokedAt !== null) throw invalid(`the API key "${record.name}" was revoked; ask the operator for a new one`)
  if (record.expiresAt !== null && record.expiresAt <= now)
    throw invalid(`the API key "${record.name}" expired at ${new Date(record.expiresAt).toISOString()}; ask for a new one`)
  if (record.ips !== null && !ipAllowed(record.ips, address))
    throw new CortexError('ip_not_allowed', `the API key "${record.name}" may not be used from ${address ?? 'this address'}`)
}

/**
 * Who a request is: its key's record, or null for a keyless caller where the owner allows one. Throws 401
 * invalid_api_key (no, unknown, revoked or expired key) or 403 ip_not_allowed.
 */
export function authenticate(headers: IncomingHttpHeaders, address: string | undefined, o: AccessOptions): ApiKeyRecord | null {
  const open = !o.required || (o.allowLoopbackWithoutKey && isLoopback(address))
  let key: string | null
  try {
    key = presentedKey(headers)
  } catch (err) {
    // Where no key is needed, whatever a client puts in these headers (`Bearer ` with a blank key) is no key.
    if (open) return null
    throw err
  }
  if (key === null) {
    if (open) return null
    throw invalid(`no API key: ${HOW}`)
  }
  const record = o.findByHash(hashKey(key))
  if (record === undefined) {
    // Where no key is needed, clients that must send some key (the OpenAI SDK sends whatever it was given) still get in.
    if (open) return null
    throw invalid(`invalid API key: ${HOW}`)
  }
  checkKey(record, address, (o.now ?? Date.now)())
  return record
}

/** Throws 403 scope_not_allowed unless a keyless caller or the key has the scope. */
export function requireScope(key: ApiKeyRecord | null, scope: Scope | readonly Scope[]): void {
  if (key === null) return
  const wanted = typeof scope === 'string' ? [scope] : scope
  if (wanted.some((s) => key.scopes.includes(s))) return
  throw new CortexError(
    'scope_not_allowed',
    `the API key "${key.name}" lacks the scope ${wanted.map((s) => `"${s}"`).join(' or ')} (it has ${key.scopes.join(', ')})`,
  )
}
