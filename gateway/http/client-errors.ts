import { STATUS_CODES, maxHeaderSize, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { ErrorCode } from '../contract/errors.js'
import { ErrorStatus } from '../contract/errors.js'
import { openAiBody } from './errors.js'

/** What Node's HTTP parser (llhttp) or its timers refused, in the catalogue's terms. */
function refusal(err: NodeJS.ErrnoException & { reason?: string }): [ErrorCode, string] {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return [
        'headers_too_large',
        `the request's headers are larger than the gateway's limit of ${maxHeaderSize / 1024} KiB; send fewer or shorter headers`,
      ]
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return ['body_too_large', "the request body's chunk extensions are too large; send the body without chunk extensions"]
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return ['request_timeout', 'the request was not received in time; send its headers and body without pausing']
  }
  // llhttp's reason ("Invalid header value char", "Content-Length can't be present with Transfer-Encoding") names the
  // fault without repeating the bytes that caused it.
  const why = err.reason ?? err.message
  return ['bad_request', `the request is not valid HTTP/1.1: ${why} (${err.code ?? 'parse error'}); fix the client's request`]
}

/**
 * Fastify's `clientErrorHandler`: a request the HTTP parser refuses has no path yet, so its answer is always in OpenAI's
 * envelope. Like Node's own handler, it answers only when no response has begun on the socket (a pipelined request
 * must not write into an answer being streamed), then closes: the parser cannot go on after an error.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage
  if (inFlight?.headersSent) socket.destroy()
  else refuseOnSocket(socket, ...refusal(err))
}

/** Writes a catalogue error in OpenAI's envelope straight onto a socket no response owns, then closes it. */
export function refuseOnSocket(socket: Duplex, code: ErrorCode, message: string): void {
  if (socket.writable) {
    const status = ErrorStatus[code]
    const body = JSON.stringify(openAiBody(code, message))
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy()
}

/**
 * A CONNECT request (Node hands it to the server's 'connect' event, and without a listener drops the socket with no
 * answer): Cortex is no proxy.
 */
export function refuseConnect(_req: unknown, socket: Duplex): void {
  refuseOnSocket(socket, 'bad_request', 'CONNECT is not served: Cortex is not a proxy; send requests to its paths (/v1/…)')
}
