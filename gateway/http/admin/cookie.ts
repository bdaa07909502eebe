import type { FastifyReply, FastifyRequest } from 'fastify'
import { SESSION_TTL_MS } from '../../auth/sessions.js'

/** How the console's session cookie is named and when it is Secure. */
export interface SessionCookieOptions {
  /** Per instance (`cortex_session_<instance>`): cookies are not isolated by port, so two Cortex on one host would
   *  otherwise overwrite each other's. */
  name: string
  /** `server.trustProxy`: believe X-Forwarded-Proto from a TLS proxy in front. */
  trustProxy: boolean
}

/** The value of cookie `name` in the request's Cookie header(s), or undefined. */
export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/** Whether the browser reached us over TLS: on this socket, or (trustProxy) at the proxy that forwarded it. */
export function overTls(req: FastifyRequest, trustProxy: boolean): boolean {
  if ((req.raw.socket as { encrypted?: boolean }).encrypted === true) return true
  if (!trustProxy) return false
  const proto = req.headers['x-forwarded-proto']
  const first = (Array.isArray(proto) ? proto[0] : proto)?.split(',', 1)[0]?.trim().toLowerCase()
  return first === 'https'
}

/** Sets the cookie to `secret` for the session's 7 days, or (null) clears it. */
export function setSessionCookie(req: FastifyRequest, reply: FastifyReply, o: SessionCookieOptions, secret: string | null): void {
  const attrs = [
    `${o.name}=${secret ?? ''}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${secret === null ? 0 : SESSION_TTL_MS / 1000}`,
  ]
  if (overTls(req, o.trustProxy)) attrs.push('Secure')
  reply.header('set-cookie', attrs.join('; '))
}

/** The client address the sign-in throttle counts by: with trustProxy, the one the proxy appended to X-Forwarded-For. */
export function clientAddress(req: FastifyRequest, trustProxy: boolean): string {
  const forwarded = req.headers['x-forwarded-for']
  if (trustProxy && typeof forwarded === 'string' && forwarded.trim() !== '') return forwarded.split(',').at(-1)!.trim()
  return req.socket.remoteAddress ?? 'unknown'
}
