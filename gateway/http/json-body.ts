import type { FastifyInstance, FastifyRequest } from 'fastify'
import { CortexError } from '../contract/errors.js'

/** Members that would reach an object's prototype if the parsed body were merged into another object. */
function poisoned(key: string, value: unknown): boolean {
  if (key === '__proto__') return true
  return key === 'constructor' && typeof value === 'object' && value !== null && 'prototype' in value
}

/**
 * The JSON parser of every route outside /v1 (whose bodies go upstream as bytes). It says what is wrong: the parser's
 * own message for a syntax error, and a clear refusal of `__proto__` (or `constructor.prototype`), which is valid JSON
 * that no field of the admin API is named — Fastify's default answers both "not valid JSON".
 */
export function parseJsonBody(req: FastifyRequest, text: string): unknown {
  // Clients that set content-type: application/json on every request (curl -H, fetch wrappers) send it on a
  // `POST /pause` or a DELETE too: an empty body is no body there. A route that takes one refuses its absence.
  if (text.length === 0) {
    if (req.routeOptions.schema?.body === undefined) return undefined
    throw new CortexError('invalid_json', 'request body is empty; send a JSON object')
  }
  let member: string | undefined
  let value: unknown
  try {
    value = JSON.parse(text, (key, v: unknown) => {
      if (member === undefined && poisoned(key, v)) member = key
      return v
    })
  } catch (err) {
    throw new CortexError('invalid_json', `request body is not valid JSON: ${(err as Error).message}`)
  }
  if (member !== undefined)
    throw new CortexError(
      'invalid_request',
      `request body has a "${member}" member${member === 'constructor' ? ' holding "prototype"' : ''}, which no field of this API is named; remove it`,
      { param: member },
    )
  return value
}

export function jsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req: FastifyRequest, body: string | Buffer) =>
    Promise.resolve().then(() => parseJsonBody(req, body.toString())),
  )
}
