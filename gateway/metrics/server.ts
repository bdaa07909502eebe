import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { withEngineSeries } from './engines.js'

export interface MetricsServerOptions {
  registry: Registry
  /** The engines' own series, relabelled and merged (engines.ts `scrapeEngines`), written after the registry's. */
  engines?: () => Promise<string>
  /** `metrics.port`; 0 picks a free one (tests). */
  port: number
  /**
   * The gateway's Host check over `server.allowedHosts` (http/protect.ts). A keyless port on 127.0.0.1 is what DNS
   * rebinding is after: a page whose name an attacker re-points at 127.0.0.1 could read it otherwise.
   */
  hostAllowed: (header: string | undefined) => boolean
  logger: Logger
}

export interface MetricsServer {
  /** http://127.0.0.1:port */
  url: string
  close(): Promise<void>
}

/** Always loopback: this port has no key, so only processes on this machine (a local Prometheus) may reach it. */
const HOST = '127.0.0.1'

/**
 * `GET /metrics` without a key on `metrics.port`: a node:http server of its own, because nothing of the gateway's
 * app (keys, limits, CORS) applies here.
 */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer((req, res) => void answer(req, res, opts))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, HOST, () => {
      server.off('error', reject)
      resolve()
    })
  }).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
    throw new Error(`metrics.port ${opts.port} on ${HOST} is already in use: stop what holds it, or choose another port`, {
      cause: err,
    })
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${HOST}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        // Prometheus keeps its connection open between scrapes; close() alone would wait for it to time out.
        server.closeAllConnections()
      }),
  }
}

async function answer(req: IncomingMessage, res: ServerResponse, opts: MetricsServerOptions): Promise<void> {
  if (!opts.hostAllowed(req.headers.host)) {
    const shown = JSON.stringify(req.headers.host ?? '')
    return fail(res, 403, 'host_not_allowed', `Host ${shown} is not allowed here; add the name to server.allowedHosts`)
  }
  const path = req.url?.split('?', 1)[0]
  if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
    return fail(res, 404, 'not_found', `no route for ${req.method} ${path}; this port serves GET /metrics only`)
  }
  let text: string
  try {
    text = await withEngineSeries(opts.registry, opts.engines)
  } catch (err) {
    opts.logger.error({ err }, 'collecting metrics failed')
    return fail(res, 500, 'internal_error', 'collecting the metrics failed; the gateway log has the details')
  }
  res.writeHead(200, { 'content-type': opts.registry.contentType, 'content-length': Buffer.byteLength(text) })
  res.end(req.method === 'HEAD' ? undefined : text)
}

function fail(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({
    error: { message, type: status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code },
  })
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body)
}
