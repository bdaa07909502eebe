import type { CachedAnswer } from './cache-store.js'
import { streamToWhole, wholeToStream } from './cache-shape.js'
import type { Dialect } from './dialects/types.js'
import type { Flight } from './flight.js'
import { renameModelInJson } from './rewrite.js'
import { SseRelay } from './sse.js'
import type { Exchange } from './types.js'

export interface ReplayOptions {
  dialect: Dialect
  /** The name the client sent: the answer carries it, as the engine's would. */
  asked: string
  stream: boolean
  /** The client streams without asking for usage: the kept usage chunk is not theirs to see. */
  hideUsage: boolean
}

/**
 * Answers from the cache in the shape the client asked for: a kept stream replayed frame by frame (its usage chunk
 * only if asked), a whole answer as it was, or one turned into the other. No engine is asked, so none is woken.
 * The usage row records the hit with no tokens: a hit spends none of the key's tpm or daily tokens.
 */
export async function replay(ex: Exchange, answer: CachedAnswer, flight: Flight, o: ReplayOptions): Promise<void> {
  const rename = answer.upstreamModel !== null && answer.upstreamModel !== o.asked ? answer.upstreamModel : null
  let body: Buffer
  let contentType = answer.contentType
  if (o.stream && answer.kind === 'sse') {
    const sse = new SseRelay({
      dialect: o.dialect,
      hideUsage: o.hideUsage,
      ...(rename !== null && { renameModel: { from: rename, to: o.asked } }),
    })
    body = Buffer.concat([sse.push(answer.body), sse.end()])
  } else if (o.stream) {
    body = wholeToStream(answer.body, o.asked, !o.hideUsage)
    contentType = 'text/event-stream'
  } else if (answer.kind === 'json') {
    body = rename === null ? answer.body : renameModelInJson(answer.body, rename, o.asked)
  } else {
    body = streamToWhole(answer.body, o.asked, answer.usage)
    contentType = 'application/json'
  }
  const headers: Record<string, string | number | string[] | undefined> = { ...ex.answerHeaders(), 'content-type': contentType }
  if (o.stream) Object.assign(headers, { 'cache-control': 'no-cache', 'x-accel-buffering': 'no' })
  else headers['content-length'] = body.length
  ex.takeOver()
  flight.record.overheadMs = performance.now() - flight.t0
  if (o.stream) flight.record.ttftMs = flight.record.overheadMs
  flight.record.bytesOut = body.length
  // Committed before the answer goes out, as every answer's row is (relay.ts).
  await flight.end(200, null)
  ex.res.writeHead(200, headers)
  ex.res.end(body)
}
