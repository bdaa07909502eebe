import { Writable } from 'node:stream'
import type { ServerResponse } from 'node:http'

export interface CaptureSink {
  /** The proxy sent the answer's status: upstream's, or the gateway's refusal after admission. */
  head(status: number): void
  body(chunk: Buffer): void
}

/**
 * Where the proxy writes a chat answer instead of a socket: the parts of a ServerResponse that proxy/ uses (writeHead,
 * write with backpressure, end, destroy, 'close'). Destroying it is what a client's hang-up is to the proxy: the
 * upstream request is aborted, so the engine stops generating, and the usage row says 499.
 */
export class CapturedResponse extends Writable {
  statusCode = 0

  constructor(private readonly sink: CaptureSink) {
    super()
  }

  writeHead(status: number): this {
    this.statusCode = status
    this.sink.head(status)
    return this
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.sink.body(chunk)
    done()
  }

  /** The proxy's Exchange types its response as a ServerResponse; this class has every member the proxy reaches. */
  asServerResponse(): ServerResponse {
    return this as unknown as ServerResponse
  }
}
