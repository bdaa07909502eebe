import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { CortexError } from '../../contract/errors.js'

const digest = (text: string) => createHash('sha256').update(text).digest()

/**
 * An onRequest hook that lets through only `Authorization: Bearer <admin token>`. Both sides are hashed first so
 * the comparison takes the same time whatever the token's length and however much of it a guess gets right.
 */
export function adminAuth(token: string) {
  const expected = digest(token)
  return (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')
    if (match !== null && timingSafeEqual(digest(match[1]!), expected)) {
      done()
      return
    }
    reply.header('www-authenticate', 'Bearer realm="cortex admin"')
    done(
      new CortexError(
        'invalid_api_key',
        'the admin API needs the admin token: send "Authorization: Bearer <token>" with the token from ' +
          'CORTEX_ADMIN_TOKEN or <data-dir>/admin-token',
      ),
    )
  }
}
