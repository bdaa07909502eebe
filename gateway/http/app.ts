import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import type { IncomingHttpHeaders } from 'node:http'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { Limiter } from '../auth/limits.js'
import type { ApiKeyRecord } from '../contract/keys.js'
import { CortexError } from '../contract/errors.js'
import type { CortexConfig } from '../config/types.js'
import type { ModelRegistry } from '../engines/types.js'
import type { UsageSink } from '../contract/usage.js'
import { metricsRoute, type MetricsRouteOptions } from './routes/metrics.js'
import { defaultProxyOptions, type ProxyOptions } from '../proxy/types.js'
import { adminRoutes, type AdminOptions } from './admin/index.js'
import type { CacheStore } from '../proxy/cache-store.js'
import type { RouteTable } from '../router/route.js'
import type { Serving } from '../services/serving.js'
import { clientErrorHandler, refuseConnect } from './client-errors.js'
import { connectionCap } from './connections.js'
import { jsonBodies } from './json-body.js'
import { errorHandler, notFound, notFoundHandler } from './errors.js'
import { protect } from './protect.js'
import { lazyChildLogger, logRequest } from './request-log.js'
import { healthRoutes } from './routes/health.js'
import { consoleRoutes } from './routes/ui.js'
import { decorateV1Requests, v1Routes } from './routes/v1.js'

export interface AppDeps {
  config: CortexConfig
  registry: ModelRegistry
  usage: UsageSink
  /** The API keys, looked up by hash on every /v1 request (KeyRepo.findByHash). */
  keys: { findByHash(hash: string): ApiKeyRecord | undefined }
  limiter: Limiter
  /** Counts each refused request by reason: an auth error code, or the rate limit hit. */
  onRefused?: (reason: string) => void
  logger: Logger
  /** Upstream timeouts; by default none (no total generation timeout). */
  proxy?: Partial<ProxyOptions>
  /** The clock schedules are read against; default Date.now. */
  now?: () => number
  /** Virtual models (`routes:`); none without it. */
  routes?: RouteTable
  /** An organization's name by id, for routes' `clients.orgs` rules. */
  orgName?: (orgId: string) => string | undefined
  /** Where completion caches are kept; no caching without it. */
  cache?: CacheStore
  /** Pause and resume of `/v1` inference; always serving without it. */
  serving?: Pick<Serving, 'admit'>
  /** The admin API under /admin/api; not served without it. */
  admin?: AdminOptions
  /** GET /metrics behind the admin token; not served without it. */
  metrics?: MetricsRouteOptions
  /** The console's built files (dist/renderer) at `/`; not served without it. */
  console?: { dir: string }
}

/** A client's own request id is kept when it is short and plain, so it can be logged and echoed safely. */
const SANE_REQUEST_ID = /^[\w.:-]{1,128}$/

function requestId(req: { headers: Record<string, string | string[] | undefined> }): string {
  const given = req.headers['x-request-id']
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID()
}

function hasBody(headers: IncomingHttpHeaders): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] ?? '0') !== '0'
}

/** The gateway's HTTP app; the caller decides where it listens (or injects). */
export function buildApp(deps: AppDeps): FastifyInstance {
  const { config } = deps
  const logger: FastifyBaseLogger = deps.logger
  const onError = errorHandler(config.server.bodyLimit, deps.onRefused)
  const app = Fastify({
    loggerInstance: logger,
    childLoggerFactory: lazyChildLogger,
    // Requests that arrive while closing get the catalogue's shutting_down (below), not Fastify's bare 503.
    return503OnClosing: false,
    bodyLimit: config.server.bodyLimit,
    genReqId: requestId,
    // Fastify's two lines per request are replaced by the one below.
    logController: new LogController({ disableRequestLogging: true }),
    // Refusals before any route (the HTTP parser's, a URL the router cannot decode) in the catalogue's envelope too.
    clientErrorHandler,
    frameworkErrors: onError,
    // Deadlines on receiving a request (never on its answer, which may stream for minutes): a client that sends its
    // headers or body a byte at a time gets 408 request_timeout (client-errors.ts) and loses the socket. Node checks
    // them every connectionsCheckingInterval (30 s by default); once a second keeps "30 s" within a second of true.
    requestTimeout: config.server.requestTimeoutMs,
    http: {
      headersTimeout: config.server.headersTimeoutMs,
      requestTimeout: config.server.requestTimeoutMs,
      connectionsCheckingInterval: 1000,
      // Node would answer a missing Host itself with a bare 400; the Host check (protect.ts) says what to send instead.
      requireHostHeader: false,
    },
  })
  decorateV1Requests(app)
  jsonBodies(app)
  const sockets = new Set<Socket>()
  const perClient = connectionCap(config.server.maxConnectionsPerClient)
  app.server.on('connect', refuseConnect)
  app.server.on('connection', (socket: Socket) => {
    // Node's default already, made explicit: Nagle + delayed ACK would hold small SSE frames for up to 40 ms.
    socket.setNoDelay(true)
    sockets.add(socket)
    perClient.open(socket)
    socket.once('close', () => {
      sockets.delete(socket)
      perClient.close(socket)
    })
  })
  // server.close() closes idle keep-alive connections once; a connection that goes idle later (its stream just
  // finished) or never carried a request (undici opens spare ones) would hold the close until its timeout.
  // So while closing, sweep both kinds until the server is closed.
  let sweeper: NodeJS.Timeout | undefined
  let closing = false
  const sweep = () => {
    app.server.closeIdleConnections()
    for (const socket of sockets) if (socket.bytesRead === 0) socket.destroy()
  }
  app.addHook('preClose', (done) => {
    closing = true
    sweep()
    sweeper = setInterval(sweep, 100)
    done()
  })
  app.addHook('onClose', (_app, done) => {
    clearInterval(sweeper)
    done()
  })

  // One compact line per request when its response is over — finished, failed or abandoned by the client.
  app.addHook('onRequest', (req, reply, done) => {
    const t0 = performance.now()
    reply.header('x-request-id', req.id)
    if (!req.raw.url?.startsWith('/')) {
      // The router takes `http://host/v1/embeddings` for its path, but scope and forwarding read the URL as sent.
      reply.header('connection', 'close')
      done(
        new CortexError(
          'bad_request',
          'the request target must be a path such as /v1/chat/completions (origin-form); Cortex is not a proxy: send ' +
            'the host in the Host header, not in the request line',
        ),
      )
      return
    }
    if (req.is404 && hasBody(req.raw.headers)) {
      // Fastify would read the whole body before its 404 handler runs; refuse first, and hang up (errors.ts).
      done(notFound(req))
      return
    }
    if (perClient.over(req.raw.socket)) {
      reply.header('connection', 'close')
      done(perClient.refusal())
      return
    }
    if (closing) {
      // A keep-alive client may send one more request while in-flight ones finish; tell it to retry elsewhere/later.
      reply.header('connection', 'close')
      done(new CortexError('shutting_down', 'Cortex is shutting down; retry shortly', { retryAfterSeconds: 5 }))
      return
    }
    reply.raw.once('close', () =>
      logRequest(deps.logger, req, reply.raw.writableEnded ? reply.raw.statusCode : 499, t0, config.logging.prompts),
    )
    done()
  })
  app.setErrorHandler(onError)
  const consolePage = deps.console ? consoleRoutes(app, deps.console.dir) : () => false
  app.setNotFoundHandler((req, reply) => (consolePage(req, reply) ? reply : notFoundHandler(req, reply)))

  // Before every route: DNS-rebinding Host check, CORS, and no foreign Origin on the admin API.
  app.register(protect, { allowedHosts: config.server.allowedHosts, corsOrigins: config.server.corsOrigins })
  app.register(healthRoutes, { registry: deps.registry })
  const options = { ...defaultProxyOptions, ...deps.proxy }
  app.register(v1Routes, {
    prefix: '/v1',
    registry: deps.registry,
    usage: deps.usage,
    options,
    access: { ...config.auth, findByHash: (hash: string) => deps.keys.findByHash(hash) },
    limiter: deps.limiter,
    serving: deps.serving,
    routes: deps.routes,
    orgName: deps.orgName,
    now: deps.now,
    cache: deps.cache,
  })
  if (deps.admin) app.register(adminRoutes, { prefix: '/admin/api', ...deps.admin })
  if (deps.metrics) app.register(metricsRoute, deps.metrics)
  return app
}
