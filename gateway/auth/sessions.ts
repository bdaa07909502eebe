import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { CortexError } from '../contract/errors.js'
import type { SessionUser, SessionView, SignInBody } from '../contract/console.js'
import type { UserRepo } from './types.js'

/** A console session as stored: the cookie's secret only as its hash. */
export interface SessionRecord {
  /** The public id (listing, revoking); not the cookie's secret. */
  id: string
  secretHash: string
  /** null for the built-in admin (signed in with the admin token or a code). */
  userId: string | null
  createdAt: number
  lastSeenAt: number
  expiresAt: number
  userAgent: string | null
  address: string | null
}

export interface SessionRepo {
  insert(rec: SessionRecord): void
  findBySecretHash(hash: string): SessionRecord | undefined
  touch(id: string, lastSeenAt: number, expiresAt: number): void
  /** Sessions not expired at `now`, most recently used first. */
  list(now: number): SessionRecord[]
  /** False when there was no such session. */
  remove(id: string): boolean
  removeExpired(now: number): number
}

/** A session found by its cookie: whose it is and the CSRF token its state-changing requests must carry. */
export interface ActiveSession {
  record: SessionRecord
  user: SessionUser
  csrf: string
  /** The expiry moved forward on this request: the cookie is sent again with a fresh Max-Age. */
  renewed: boolean
}

export interface SignedIn {
  /** The cookie's value; shown once, to the browser. */
  secret: string
  session: ActiveSession
}

export interface SessionService {
  /** A one-time sign-in code (5 minutes, single use), e.g. for the link `cortex serve` prints. */
  mintCode(): { code: string; expiresAt: number }
  /** Throws `too_many_sign_ins` (429) after 5 failures from `client.address` within a minute, else `sign_in_failed`. */
  signIn(body: SignInBody, client: { address: string; userAgent: string | null }): SignedIn
  /** The live session whose cookie carries `secret`; its expiry slides forward (7 days from the last use). */
  authenticate(secret: string): ActiveSession | undefined
  /** Ends a session by its public id; false when there was none. */
  end(id: string): boolean
  list(): Array<{ record: SessionRecord; user: SessionUser }>
  /** Whether `presented` is the session's CSRF token (constant-time). */
  csrfMatches(session: ActiveSession, presented: string | undefined): boolean
}

export interface SessionServiceOptions {
  repo: SessionRepo
  users: Pick<UserRepo, 'get' | 'verify'>
  /** The admin token: signing in with it gives a session of the built-in admin. */
  adminToken: string
  now?: () => number
}

export const SESSION_TTL_MS = 7 * 86_400_000
export const CODE_TTL_MS = 5 * 60_000
const THROTTLE_FAILURES = 5
const THROTTLE_WINDOW_MS = 60_000
/** Writing lastSeenAt on every request would make each console poll a database write. */
const TOUCH_EVERY_MS = 60_000

export const BUILTIN_ADMIN: SessionUser = { id: 'admin', name: 'admin', role: 'admin', orgId: null, builtin: true }

const sha256 = (text: string) => createHash('sha256').update(text).digest()
const sha256hex = (text: string) => createHash('sha256').update(text).digest('hex')
/** Comparing digests takes the same time whatever the lengths and however much of a guess is right. */
const sameSecret = (a: string, b: string) => timingSafeEqual(sha256(a), sha256(b))

/** Sign-in codes, sessions and the sign-in throttle. Codes and the throttle live in memory; sessions in the store. */
export function createSessions(o: SessionServiceOptions): SessionService {
  const now = o.now ?? Date.now
  /** sha256(code) → expiry. */
  const codes = new Map<string, number>()
  /** Client address → times of its recent failed sign-ins. */
  const failures = new Map<string, number[]>()

  const recentFailures = (address: string, at: number): number[] => {
    const recent = (failures.get(address) ?? []).filter((t) => at - t < THROTTLE_WINDOW_MS)
    if (recent.length === 0) failures.delete(address)
    else failures.set(address, recent)
    return recent
  }

  const userOf = (rec: SessionRecord): SessionUser | undefined => {
    if (rec.userId === null) return BUILTIN_ADMIN
    const user = o.users.get(rec.userId)
    return user && { id: user.id, name: user.name, role: user.role, orgId: user.orgId, builtin: false }
  }

  const csrfOf = (secret: string) => createHash('sha256').update(`cortex-csrf\0${secret}`).digest('base64url')

  /** Who the body proves to be, or undefined. */
  const whoIs = (body: SignInBody): SessionUser | undefined => {
    if ('code' in body) {
      const key = sha256hex(body.code)
      const expiresAt = codes.get(key)
      if (expiresAt === undefined) return undefined
      codes.delete(key)
      return expiresAt > now() ? BUILTIN_ADMIN : undefined
    }
    if ('token' in body) return sameSecret(body.token, o.adminToken) ? BUILTIN_ADMIN : undefined
    const user = o.users.verify(body.name, body.password)
    return user && { id: user.id, name: user.name, role: user.role, orgId: user.orgId, builtin: false }
  }

  return {
    mintCode() {
      const at = now()
      for (const [key, expiresAt] of codes) if (expiresAt <= at) codes.delete(key)
      const code = randomBytes(24).toString('base64url')
      const expiresAt = at + CODE_TTL_MS
      codes.set(sha256hex(code), expiresAt)
      return { code, expiresAt }
    },

    signIn(body, client) {
      const at = now()
      const recent = recentFailures(client.address, at)
      if (recent.length >= THROTTLE_FAILURES) {
        const retryAfterSeconds = Math.max(1, Math.ceil((recent[0]! + THROTTLE_WINDOW_MS - at) / 1000))
        throw new CortexError(
          'too_many_sign_ins',
          `${recent.length} failed sign-ins from ${client.address} within a minute: sign-ins from this address pause until a minute has passed since the first.`,
          { retryAfterSeconds },
        )
      }
      const user = whoIs(body)
      if (user === undefined) {
        failures.set(client.address, [...recent, at])
        throw new CortexError('sign_in_failed', signInFailure(body))
      }
      o.repo.removeExpired(at)
      const secret = randomBytes(32).toString('base64url')
      const record: SessionRecord = {
        id: `ses_${randomBytes(8).toString('hex')}`,
        secretHash: sha256hex(secret),
        userId: user.builtin ? null : user.id,
        createdAt: at,
        lastSeenAt: at,
        expiresAt: at + SESSION_TTL_MS,
        userAgent: client.userAgent?.slice(0, 256) ?? null,
        address: client.address,
      }
      o.repo.insert(record)
      return { secret, session: { record, user, csrf: csrfOf(secret), renewed: true } }
    },

    authenticate(secret) {
      const at = now()
      const record = o.repo.findBySecretHash(sha256hex(secret))
      if (record === undefined) return undefined
      if (record.expiresAt <= at) {
        o.repo.remove(record.id)
        return undefined
      }
      const user = userOf(record)
      if (user === undefined) return undefined
      const renewed = at - record.lastSeenAt >= TOUCH_EVERY_MS
      const current = renewed ? { ...record, lastSeenAt: at, expiresAt: at + SESSION_TTL_MS } : record
      if (renewed) o.repo.touch(record.id, current.lastSeenAt, current.expiresAt)
      return { record: current, user, csrf: csrfOf(secret), renewed }
    },

    end: (id) => o.repo.remove(id),

    list() {
      return o.repo.list(now()).flatMap((record) => {
        const user = userOf(record)
        return user === undefined ? [] : [{ record, user }]
      })
    },

    csrfMatches: (session, presented) => presented !== undefined && sameSecret(presented, session.csrf),
  }
}

function signInFailure(body: SignInBody): string {
  if ('code' in body)
    return 'this sign-in code is unknown, used or expired (codes last 5 minutes and work once): ask for a new one'
  if ('token' in body) return 'that is not the admin token: it is in CORTEX_ADMIN_TOKEN or <data-dir>/admin-token'
  return 'unknown user name or wrong password'
}

/** The session as `GET /admin/api/auth/session` shows it. */
export function sessionView(s: ActiveSession): SessionView {
  return { user: s.user, csrf: s.csrf, expiresAt: s.record.expiresAt }
}
