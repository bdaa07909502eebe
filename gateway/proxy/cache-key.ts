import { createHash } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import type { ModelDefinition } from '../contract/model.js'
import { memberValue, scanObject } from './body.js'

/** Every top-level member of a body: the key hashes all of them but those that change only the answer's shape. */
const EVERY_KEY = { has: () => true }

/** How the answer is delivered, not what it says: a streamed and a whole answer share one entry. */
const SHAPE_ONLY = new Set(['stream', 'stream_options'])

const revisions = new WeakMap<ModelDefinition, string>()

/**
 * What the engine is told, hashed: a change of flags, source, image or upstream is a new revision, so answers of the
 * old one are never served for it. Definitions are frozen and replaced on change, so each is hashed once.
 */
export function revision(def: ModelDefinition): string {
  let known = revisions.get(def)
  if (known === undefined) {
    const { name, aliases, engine, runtime, source, args, env, image, baseUrls, upstreamModel } = def
    const facing = { name, aliases, engine, runtime, source, args, env, image, baseUrls, upstreamModel }
    known = createHash('sha256').update(JSON.stringify(facing)).digest('hex').slice(0, 32)
    revisions.set(def, known)
  }
  return known
}

/**
 * The cache key of a request, or null when it is not cacheable: only a deterministic one is (temperature 0, or a
 * `seed`), unless the client sends `x-cortex-cache: force`. Members are hashed by name in sorted order with their
 * bytes as sent, so the key costs a scan and a hash of the body, never a parse.
 */
export function cacheKey(
  body: Buffer,
  headers: IncomingHttpHeaders,
  parts: { revision: string; org: string | null; endpoint: string },
): string | null {
  const scan = scanObject(body, EVERY_KEY)
  if (scan === null) return null
  const forced = headers['x-cortex-cache'] === 'force'
  if (!forced) {
    const temperature = memberValue(body, scan.members.get('temperature'))
    const seed = memberValue(body, scan.members.get('seed'))
    if (temperature !== 0 && (seed === undefined || seed === null)) return null
  }
  const hash = createHash('sha256').update(`cortex-cache-1\0${parts.revision}\0${parts.org ?? ''}\0${parts.endpoint}\0`)
  for (const name of [...scan.members.keys()].sort()) {
    if (SHAPE_ONLY.has(name)) continue
    const span = scan.members.get(name)!
    hash.update(`${name}\0`).update(body.subarray(span.start, span.end)).update('\0')
  }
  return hash.digest('hex')
}
