/**
 * The floor: the least a Node gateway can do, and so what Cortex's figures are compared with. A bare node:http
 * server forwards every request to one upstream through one keep-alive undici Pool: no parsing, no auth, no logging.
 * Request bodies stream to the upstream as they arrive and answers stream back chunk by chunk (`Pool.stream` writes
 * each upstream chunk to the client as it lands), so SSE frames pass one by one and bytes pass unchanged. Nagle is
 * off on both sides (`noDelay` here; undici sets it on its own sockets). Run as its own process:
 *
 *   node --import tsx bench/floor.ts <upstream origin>    prints `FLOOR_PORT=<port>` on stdout once listening.
 */
import { createServer, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http'
import { Pool, type Dispatcher } from 'undici'

const origin = process.argv[2]
if (origin === undefined) throw new Error('usage: floor.ts <upstream origin, e.g. http://127.0.0.1:8080>')

// No headers/body timeouts: a paced stream may be silent for a while, as it may through any gateway.
const upstream = new Pool(origin, { pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 0, bodyTimeout: 0 })

/** Hop-by-hop headers (RFC 9110 §7.6.1) and `host` belong to one connection, not to the message. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
])

function endToEnd(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value
  return out
}

const server = createServer({ noDelay: true, keepAliveTimeout: 120_000 }, (req, res) => {
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
  upstream
    .stream(
      {
        method: req.method as Dispatcher.HttpMethod,
        path: req.url ?? '/',
        headers: endToEnd(req.headers) as Dispatcher.DispatchOptions['headers'],
        body: hasBody ? req : null,
      },
      ({ statusCode, headers }) => {
        res.writeHead(statusCode, endToEnd(headers))
        return res
      },
    )
    .catch((err: Error) => {
      if (res.headersSent) return res.destroy(err)
      res.writeHead(502, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { message: `floor: upstream failed: ${err.message}`, type: 'server_error' } }))
    })
})
server.headersTimeout = 0
server.requestTimeout = 0

server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  if (typeof address !== 'object' || address === null) throw new Error('floor: no address')
  process.stdout.write(`FLOOR_PORT=${address.port}\n`)
})

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.closeAllConnections()
    server.close(() => void upstream.close().then(() => process.exit(0)))
  })
}
