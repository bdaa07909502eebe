import { connect, type Socket } from 'node:net'

/** An answer read off a raw socket until the gateway closed it. */
export interface RawAnswer {
  status: number
  /** The header block, lower-cased. */
  headers: string
  body: string
  json: () => { error?: { message: string; type: string; param: string | null; code: string }; type?: string } & Record<
    string,
    unknown
  >
}

/** An HTTP/1.1 request as text: the request line, a Host, the given headers, then the body. */
export const rawRequest = (line: string, headers: string[] = [], body = '') =>
  [line, 'host: 127.0.0.1', ...headers, '', body].join('\r\n')

/**
 * Opens a socket to `port`, lets `write` feed it (all at once, or a byte at a time), and resolves with what came back
 * once the gateway closes the connection. Raw bytes, because an HTTP client would refuse to send most of these.
 */
export function rawExchange(port: number, write: (socket: Socket) => void): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (text += chunk))
    socket.on('error', reject)
    socket.on('close', () => {
      const split = text.indexOf('\r\n\r\n')
      const body = text.slice(split + 4)
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0),
        headers: split < 0 ? '' : text.slice(0, split).toLowerCase(),
        body,
        json: () => JSON.parse(body) as ReturnType<RawAnswer['json']>,
      })
    })
    socket.once('connect', () => write(socket))
  })
}

/** Sends `bytes` whole (half-closing the socket after, when `end`). */
export const rawSend = (port: number, bytes: string | Buffer, end = false) =>
  rawExchange(port, (socket) => (end ? socket.end(bytes) : socket.write(bytes)))
