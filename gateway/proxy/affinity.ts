import { createHash } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { valueEnd, type Span } from './body.js'

/** Bytes of a conversation's opening that are hashed: enough to tell conversations apart, cheap on a 1 MB prompt. */
const HASHED_BYTES = 4096
/** A leading message with one of these roles is shared by many conversations: the key takes the next one too. */
const SHARED_ROLE = /"role"\s*:\s*"(system|developer)"/

/**
 * What keeps a conversation on the replica whose KV cache holds its prompt: the client's `x-session-id`, else a hash of
 * the conversation's opening — its leading system messages and the first message after them, which every later turn
 * repeats unchanged. Undefined for a request with no messages (the engine's choice is then the least busy one).
 */
export function affinityKey(raw: Buffer, messages: Span | undefined, headers: IncomingHttpHeaders): string | undefined {
  const session = headers['x-session-id']
  if (typeof session === 'string' && session !== '') return `s:${session}`
  if (messages === undefined || raw[messages.start] !== 0x5b) return undefined
  let i = messages.start + 1
  for (;;) {
    while (raw[i] === 0x20 || raw[i] === 0x0a || raw[i] === 0x0d || raw[i] === 0x09 || raw[i] === 0x2c) i++
    if (i >= messages.end || raw[i] === 0x5d) return undefined
    const end = valueEnd(raw, i)
    if (end < 0) return undefined
    // Roles come first in what clients send; a look at the element's head is enough.
    if (!SHARED_ROLE.test(raw.toString('latin1', i, Math.min(end, i + 64)))) {
      const hash = createHash('sha1').update(raw.subarray(messages.start, Math.min(end, messages.start + HASHED_BYTES)))
      return `p:${hash.update(String(end - messages.start)).digest('base64url')}`
    }
    i = end
  }
}
