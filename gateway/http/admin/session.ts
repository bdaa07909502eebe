import type { FastifyReply, FastifyRequest } from 'fastify'
import Type from 'typebox'
import { sessionView, type ActiveSession, type SessionService } from '../../auth/sessions.js'
import type { AdminCaller } from '../../auth/types.js'
import { SignInBody, type SessionListItem, type SessionView, type SignInCodeView } from '../../contract/console.js'
import { CortexError } from '../../contract/errors.js'
import { isOwnOrigin } from '../protect.js'
import { clientAddress, readCookie, setSessionCookie, type SessionCookieOptions } from './cookie.js'
import type { AdminApp } from './index.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The console session the admin request was made with, if it came with one (and no Authorization header). */
    session: ActiveSession | null
  }
  interface FastifyContextConfig {
    /** Reached without a caller: signing in. */
    public?: boolean
  }
}

export interface ConsoleSessions {
  service: SessionService
  cookie: SessionCookieOptions
}

/** Route patterns (under /admin/api) a member's session may use; `*` = every method. */
const MEMBER_ROUTES: Record<string, ReadonlySet<string>> = {
  '/admin/api/models': new Set(['GET']),
  '/admin/api/models/:id': new Set(['GET']),
  '/admin/api/events': new Set(['GET']),
  '/admin/api/keys': new Set(['GET', 'POST']),
  '/admin/api/keys/:id': new Set(['DELETE']),
  '/admin/api/usage': new Set(['GET']),
  '/admin/api/auth/session': new Set(['GET', 'DELETE']),
  // The chat playground: every user's own conversations (gateway/http/admin/chats.ts scopes them to the session).
  '/admin/api/chats': new Set(['GET', 'POST']),
  '/admin/api/chats/search': new Set(['GET']),
  '/admin/api/chats/:id': new Set(['GET', 'PATCH', 'DELETE']),
  '/admin/api/chats/:id/export': new Set(['GET']),
  '/admin/api/chats/:id/messages': new Set(['POST']),
  '/admin/api/chats/:id/messages/:mid/stop': new Set(['POST']),
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * The caller of an admin request that carries the console's session cookie and no Authorization header. Cookies are
 * not isolated by port — any page on another local port is "same site" — so a state-changing request must also come
 * from the gateway's own page (Origin) and carry the session's CSRF token, which only that page can read.
 */
export function sessionCaller(req: FastifyRequest, reply: FastifyReply, sessions: ConsoleSessions): AdminCaller | null {
  const secret = readCookie(req, sessions.cookie.name)
  if (secret === undefined || secret === '') return null
  const session = sessions.service.authenticate(secret)
  if (session === undefined) {
    setSessionCookie(req, reply, sessions.cookie, null)
    throw new CortexError('sign_in_failed', 'your console session has ended (signed out, revoked or expired): sign in again')
  }
  if (!SAFE_METHODS.has(req.method)) {
    const origin = req.headers.origin
    if (origin === undefined || !isOwnOrigin(origin, req.headers.host)) {
      throw new CortexError(
        'origin_not_allowed',
        "a console session changes things only from the console's own page (the Origin header must be this gateway's)",
      )
    }
    const csrf = req.headers['x-cortex-csrf']
    if (typeof csrf !== 'string' || !sessions.service.csrfMatches(session, csrf)) {
      throw new CortexError(
        'csrf_token_invalid',
        'a state-changing request made with a console session needs the x-cortex-csrf header of that session ' +
          '(GET /admin/api/auth/session gives it)',
      )
    }
  }
  if (session.renewed) setSessionCookie(req, reply, sessions.cookie, secret)
  req.session = session
  const { user } = session
  if (user.role === 'admin') return { kind: 'admin' }
  const allowed = MEMBER_ROUTES[req.routeOptions.url ?? '']
  if (!allowed?.has(req.method)) {
    throw new CortexError(
      'role_not_allowed',
      `${user.name} is a member: members see model states, their own keys and their organization's usage; ` +
        'this needs an admin (ask one, or sign in with the admin token)',
    )
  }
  return { kind: 'member', user: { ...user, orgId: user.orgId ?? '' } }
}

const SessionParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })

/** Signing in and out, one-time codes, and the admins' list of sessions. */
export function sessionRoutes(app: AdminApp, sessions: ConsoleSessions, publicUrl: (req: FastifyRequest) => string): void {
  const { service, cookie } = sessions
  app.post('/auth/session', { schema: { body: SignInBody }, config: { public: true } }, (req, reply): SessionView => {
    const client = { address: clientAddress(req, cookie.trustProxy), userAgent: req.headers['user-agent'] ?? null }
    const { secret, session } = service.signIn(req.body, client)
    setSessionCookie(req, reply, cookie, secret)
    req.log.info({ user: session.user.name, session: session.record.id }, 'console sign-in')
    return sessionView(session)
  })
  app.get('/auth/session', (req): SessionView => {
    if (req.session === null)
      throw new CortexError('invalid_request', 'this request carries no console session (it used a token or a key)')
    return sessionView(req.session)
  })
  app.delete('/auth/session', (req, reply) => {
    if (req.session !== null) service.end(req.session.record.id)
    setSessionCookie(req, reply, cookie, null)
    reply.code(204)
    return reply.send()
  })
  app.post('/auth/codes', (req, reply): SignInCodeView => {
    const { code, expiresAt } = service.mintCode()
    reply.code(201)
    return { code, expiresAt, url: `${publicUrl(req)}/?code=${code}` }
  })
  app.get('/auth/sessions', (req): SessionListItem[] =>
    service.list().map(({ record, user }) => ({
      id: record.id,
      user: { id: user.id, name: user.name, role: user.role },
      createdAt: record.createdAt,
      lastSeenAt: record.lastSeenAt,
      expiresAt: record.expiresAt,
      userAgent: record.userAgent,
      address: record.address,
      current: req.session?.record.id === record.id,
    })),
  )
  app.delete('/auth/sessions/:id', { schema: { params: SessionParams } }, (req, reply) => {
    if (!service.end(req.params.id)) throw new CortexError('not_found', `no console session with id "${req.params.id}"`)
    reply.code(204)
    return reply.send()
  })
}
