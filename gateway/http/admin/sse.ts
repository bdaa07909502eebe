import type { ServerResponse } from 'node:http'
import type { FastifyReply } from 'fastify'

/** Proxies and load balancers drop a connection that stays silent for about a minute; a comment keeps it open. */
const KEEP_ALIVE_MS = 15_000
/**
 * Events are pushed, not pulled, so a client that stops reading cannot slow their source down. Past this much
 * unsent data its stream is cut instead of growing without bound; an EventSource reconnects and gets a fresh snapshot.
 */
const MAX_BUFFERED_BYTES = 1024 * 1024

/** One open `text/event-stream` response, written straight to the socket (Fastify's reply is bypassed). */
export class SseStream {
  private closed = false
  private readonly cleanups: Array<() => void> = []

  constructor(private readonly res: ServerResponse) {
    const timer = setInterval(() => this.write(': keep-alive\n\n'), KEEP_ALIVE_MS)
    this.cleanups.push(() => clearInterval(timer))
    // 'close' comes both when the client goes away and after end(): either way the stream is over.
    res.once('close', () => this.dispose())
  }

  /** A named event whose data is JSON. */
  event(type: string, data: unknown): void {
    this.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`)
  }

  /** An unnamed event carrying text; a line break inside would end the field, so each line gets its own. */
  data(text: string): void {
    const fields = text.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`)
    this.write(`${fields.join('')}\n`)
  }

  /** Runs `fn` when the stream is over (at once if it already is): unsubscribe from the source. */
  onClose(fn: () => void): void {
    if (this.closed) fn()
    else this.cleanups.push(fn)
  }

  end(): void {
    if (this.closed) return
    this.res.end()
    this.dispose()
  }

  private write(frame: string): void {
    if (this.closed) return
    if (this.res.writableLength > MAX_BUFFERED_BYTES) {
      this.res.destroy()
      this.dispose()
      return
    }
    this.res.write(frame)
  }

  private dispose(): void {
    if (this.closed) return
    this.closed = true
    for (const fn of this.cleanups.splice(0)) fn()
  }
}

/** The admin API's open streams, so that closing the server can end them: an open stream would hold close() forever. */
export class SseStreams {
  private readonly open = new Set<SseStream>()
  private closing = false

  /** Takes the reply over and sends the event-stream head at once, so the client sees the stream is open. */
  start(reply: FastifyReply): SseStream {
    reply.hijack()
    const res = reply.raw
    const headers: Record<string, string | number | string[] | undefined> = {
      ...reply.getHeaders(),
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      // nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    }
    res.writeHead(200, headers)
    res.flushHeaders()
    const stream = new SseStream(res)
    this.open.add(stream)
    stream.onClose(() => this.open.delete(stream))
    // A handler that began before close() started still gets a stream, and sees it end.
    if (this.closing) stream.end()
    return stream
  }

  endAll(): void {
    this.closing = true
    for (const stream of this.open) stream.end()
  }
}
