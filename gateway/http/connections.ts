import type { Socket } from 'node:net'
import { CortexError } from '../contract/errors.js'

/**
 * `server.maxConnectionsPerClient`: open connections per client address. A connection past the cap is kept only long
 * enough to answer its first request with 503 too_many_connections and close — a reset with no answer would leave the
 * client guessing. Until it sends one, the headers deadline bounds it like any other idle socket.
 */
export function connectionCap(max: number) {
  const open = new Map<string, number>()
  const over = new WeakSet<Socket>()
  const address = (socket: Socket) => socket.remoteAddress ?? ''
  return {
    open(socket: Socket): void {
      const count = (open.get(address(socket)) ?? 0) + 1
      open.set(address(socket), count)
      if (count > max) over.add(socket)
    },
    close(socket: Socket): void {
      const count = (open.get(address(socket)) ?? 1) - 1
      if (count <= 0) open.delete(address(socket))
      else open.set(address(socket), count)
    },
    over: (socket: Socket): boolean => over.has(socket),
    refusal: () =>
      new CortexError(
        'too_many_connections',
        `this client address already holds ${max} open connections to Cortex (server.maxConnectionsPerClient); ` +
          'reuse keep-alive connections, close idle ones, or raise the limit',
        { retryAfterSeconds: 1 },
      ),
  }
}
