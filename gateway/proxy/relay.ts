import type { ServerResponse } from 'node:http'
import type { Dispatcher } from 'undici'
import type { Lease } from '../engines/types.js'
import type { Capture } from './cache.js'
import type { Dialect } from './dialects/types.js'
import type { Flight } from './flight.js'
import { renameModelInJson } from './rewrite.js'
import { SseRelay } from './sse.js'
import type { Exchange } from './types.js'
import { upstreamError } from './upstream.js'
import { ResponseEnds, type Usage } from './usage.js'

/** How much of each end of a JSON response is kept to read `usage` from. */
const USAGE_END_BYTES = 16 * 1024

export interface RelayOptions {
  dialect: Dialect
  hideUsage: boolean
  renameModel: { from: string; to: string } | undefined
  lease: Lease
  signal: AbortSignal
  /** A cacheable request's answer is gathered here, and kept when it ends well. */
  capture: Capture | null
}

/** Resolves on 'drain', or on 'close' (the client left; the abort signal ends the upstream side). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}

/**
 * Sends the upstream response to the client as it arrives: SSE frame by frame, anything else chunk by chunk. The
 * usage row is recorded before the answer's last byte goes out, so a process killed right after loses none.
 */
export async function relay(ex: Exchange, upstream: Dispatcher.ResponseData, flight: Flight, o: RelayOptions): Promise<void> {
  const { res } = ex
  const contentType = String(upstream.headers['content-type'] ?? 'application/json')
  const sse = contentType.startsWith('text/event-stream')
    ? new SseRelay({ dialect: o.dialect, hideUsage: o.hideUsage, renameModel: o.renameModel })
    : null
  // A remote's JSON answer is held whole only to put the client's model name back into it.
  const hold = sse === null && o.renameModel !== undefined && contentType.includes('json')
  const headers: Record<string, string | number | string[] | undefined> = { ...ex.answerHeaders(), 'content-type': contentType }
  // What a client needs to back off from a remote's 429/503 (the OpenAI SDK reads these).
  for (const [name, value] of Object.entries(upstream.headers)) {
    if ((name === 'retry-after' || name.startsWith('x-ratelimit-')) && headers[name] === undefined) headers[name] = value
  }
  if (sse !== null) Object.assign(headers, { 'cache-control': 'no-cache', 'x-accel-buffering': 'no' })
  else if (!hold && upstream.headers['content-length'] !== undefined)
    headers['content-length'] = upstream.headers['content-length']
  ex.takeOver()

  const write = async (bytes: Buffer) => {
    if (bytes.length === 0) return
    flight.record.bytesOut += bytes.length
    if (!res.write(bytes)) await drained(res)
  }
  const ends = new ResponseEnds(hold ? Infinity : USAGE_END_BYTES)
  try {
    res.writeHead(upstream.statusCode, headers)
    let last: Buffer | null = null
    for await (const chunk of upstream.body as AsyncIterable<Buffer>) {
      o.capture?.push(chunk)
      if (sse === null) {
        ends.push(chunk)
        if (hold) continue
        // One chunk behind: the last one goes out only after the usage row is written.
        if (last !== null) await write(last)
        last = chunk
        continue
      }
      const bytes = sse.push(chunk)
      if (flight.record.ttftMs === null && sse.sawToken) flight.record.ttftMs = performance.now() - flight.t0
      await write(bytes)
    }
    let tail: Buffer
    if (sse !== null) tail = sse.end()
    else if (hold) tail = renameModelInJson(ends.whole(), o.renameModel!.from, o.renameModel!.to)
    else tail = last ?? Buffer.alloc(0)
    flight.record.bytesOut += tail.length
    const usage = sse !== null ? sse.usage : ends.usage()
    o.capture?.finish(upstream.statusCode, contentType, usage)
    await flight.end(upstream.statusCode, usage)
    res.end(tail)
  } catch (err) {
    upstream.body.destroy()
    await failMidway(err, ex, sse, flight, o, sse !== null ? sse.usage : ends.usage())
  }
}

/**
 * After the headers went out: an SSE client gets a final error frame, any other loses the connection, so that a
 * truncated body cannot pass for a complete one. The usage row is written first, as for a complete answer.
 */
async function failMidway(
  err: unknown,
  ex: Exchange,
  sse: SseRelay | null,
  flight: Flight,
  o: RelayOptions,
  usage: Usage | null,
): Promise<void> {
  if (o.signal.aborted) return flight.end(499, usage)
  const mapped = upstreamError(err, o.lease)
  if (mapped === null) ex.log.error({ err }, 'relaying the upstream response failed')
  const frame =
    sse === null
      ? null
      : o.dialect.errorFrame(
          mapped?.code ?? 'internal_error',
          mapped?.message ?? 'the gateway failed while relaying the stream; see its log',
        )
  if (frame !== null) flight.record.bytesOut += frame.length
  await flight.end(mapped?.status ?? 500, usage)
  if (frame === null) ex.res.destroy()
  else ex.res.end(frame)
}
