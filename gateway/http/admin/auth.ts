import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { checkKey, presentedKey, requireScope } from '../../auth/access.js'
import { hashKey } from '../../auth/keys.js'
import type { AdminCaller } from '../../auth/types.js'
import type { ApiKeyRecord } from '../../contract/keys.js'
import { CortexError } from '../../contract/errors.js'
import { sessionCaller, type ConsoleSessions } from './session.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the admin API's auth hook before any admin route runs. */
    adminCaller: AdminCaller
  }
}

const digest = (text: string) => createHash('sha256').update(text).digest()

const ADMIN: AdminCaller = { kind: 'admin' }

/** What an `admin:read` key may read (route patterns under /admin/api): usage and model states, nothing else. */
const READABLE = new Set(['/admin/api/usage', '/admin/api/models', '/admin/api/models/:id'])

export interface AdminAuthOptions {
  /** What `Authorization: Bearer …` must carry to do anything. */
  token: string
  /** API keys; one with the `admin:read` scope may read usage and model states. Without it, the token only. */
  keys?: { findByHash(hash: string): ApiKeyRecord | undefined }
  /** The console's sessions: a request with the session cookie and no credential header is its session's user's. */
  sessions?: ConsoleSessions
}

/**
 * An onRequest hook that lets through `Authorization: Bearer <admin token>`, and an `admin:read` key to the reads it
 * allows. The token comparison hashes both sides first so it takes the same time whatever the token's length and
 * however much of it a guess gets right.
 */
export function adminAuth({ token, keys, sessions }: AdminAuthOptions) {
  const expected = digest(token)
  return (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    try {
      // Signing in needs no caller; everything else does.
      if (req.routeOptions.config.public !== true) req.adminCaller = caller(req, reply)
      done()
    } catch (err) {
      if ((err as CortexError).code === 'invalid_api_key') reply.header('www-authenticate', 'Bearer realm="cortex admin"')
      done(err as Error)
    }
  }

  function caller(req: FastifyRequest, reply: FastifyReply): AdminCaller {
    const credential = req.headers.authorization !== undefined || req.headers['x-api-key'] !== undefined
    const viaSession = sessions !== undefined && !credential ? sessionCaller(req, reply, sessions) : null
    if (viaSession !== null) return viaSession
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')
    if (match !== null && timingSafeEqual(digest(match[1]!), expected)) return ADMIN
    const record = keys === undefined ? undefined : keyOf(req, keys)
    if (record === undefined) {
      throw new CortexError(
        'invalid_api_key',
        'the admin API needs the admin token: send "Authorization: Bearer <token>" with the token from ' +
          'CORTEX_ADMIN_TOKEN or <data-dir>/admin-token',
      )
    }
    checkKey(record, req.socket.remoteAddress, Date.now())
    requireScope(record, 'admin:read')
    if (req.method !== 'GET' || !READABLE.has(req.routeOptions.url ?? '')) {
      throw new CortexError(
        'scope_not_allowed',
        `the API key "${record.name}" has admin:read, which allows GET /admin/api/usage and GET /admin/api/models only; ` +
          'everything else needs the admin token',
      )
    }
    return { kind: 'key', key: record }
  }
}

/** The record of the API key the request carries, if any; a malformed header gets the admin token's message. */
function keyOf(req: FastifyRequest, keys: NonNullable<AdminAuthOptions['keys']>): ApiKeyRecord | undefined {
  let presented: string | null
  try {
    presented = presentedKey(req.headers)
  } catch {
    return undefined
  }
  return presented === null ? undefined : keys.findByHash(hashKey(presented))
}
