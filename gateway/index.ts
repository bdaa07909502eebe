import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { DAY_MS, createMemoryLimiter, type Limiter } from './auth/limits.js'
import { createRedisLimiter } from './auth/redis-limits.js'
import { loadConfig } from './config/load.js'
import type { CliFlags, CortexConfig } from './config/types.js'
import { createDockerRuntime } from './engines/docker/runtime.js'
import type { DockerRuntime } from './engines/docker/types.js'
import { createScheduler, type Scheduler } from './engines/scheduler.js'
import { createEngineManager, type EngineManager } from './engines/manager.js'
import { findExecutable } from './engines/process/os.js'
import { createSessions } from './auth/sessions.js'
import { createChatService } from './chat/service.js'
import { buildApp } from './http/app.js'
import { overTls } from './http/admin/cookie.js'
import { defaultConsoleDir } from './http/routes/ui.js'
import { hostCheck } from './http/protect.js'
import { createLogger } from './logger.js'
import { createMetrics, metricsSink, type Metrics } from './metrics/registry.js'
import { scrapeEngines } from './metrics/engines.js'
import { startMetricsServer, type MetricsServer } from './metrics/server.js'
import { createRecipeService } from './services/recipes.js'
import { createRouteService } from './services/routes.js'
import { modelNeed } from './models/need.js'
import { createModelService, type ModelService } from './services/models.js'
import { createRedisCache } from './proxy/cache-redis.js'
import type { CacheStore } from './proxy/cache-store.js'
import { defaultProxyOptions } from './proxy/types.js'
import { createServing } from './services/serving.js'
import { createSettings } from './services/settings.js'
import { loadAdminToken } from './store/admin-token.js'
import { connectHost, writeListening } from './store/listening.js'
import { openStore } from './store/open.js'
import { createAttribution } from './system/attribute.js'
import { readGpus } from './system/gpus.js'
import { createSystemMonitor } from './system/monitor.js'
import type { Store } from './store/types.js'

export type { CortexConfig, CliFlags } from './config/types.js'
export { ConfigError, loadConfig } from './config/load.js'
// The desktop app's side of the admin API (electron/main imports only this module).
export { AdminClient, AdminError } from './cli/admin-client.js'
export { findRunningServer, type RunningServer as AttachableServer } from './cli/running.js'

export interface Core {
  config: CortexConfig
  http: FastifyInstance
  engines: EngineManager
  models: ModelService
  docker: DockerRuntime
  store: Store
  metrics: Metrics
  logger: Logger
  /** Schedules: `tick()` applies them as of the clock's now (a timer does it at each window's edge). */
  scheduler: Scheduler
  /** A one-time console sign-in code (5 minutes, single use): `cortex serve` prints a link with one. */
  signInCode(): { code: string; expiresAt: number }
  /** Stops accepting, lets in-flight requests finish (bounded), stops engines, flushes usage, closes. */
  close(): Promise<void>
}

export interface CoreOptions {
  logger?: Logger
  /** The clock schedules are read against (epoch ms); default Date.now. Tests drive windows with it. */
  now?: () => number
  /** How long a request waits for a cold start before 503 model_loading (default 120 s). */
  coldStartWaitMs?: number
  /** CORTEX_ADMIN_TOKEN, DOCKER_HOST and the variables models name (apiKeyEnv); default process.env. */
  env?: NodeJS.ProcessEnv
  /** Where the generated admin token is announced, once (never through the logger); default stderr. */
  announce?: (message: string) => void
}

/** Builds the headless core without listening: the caller decides where (STYLE.md §1). */
export async function createCore(config: CortexConfig, options: CoreOptions = {}): Promise<Core> {
  const logger = options.logger ?? createLogger(config.logging.level, config.logging.format)
  const env = options.env ?? process.env
  const store = openStore(config.dataDir, { logger })
  let docker: DockerRuntime | undefined
  let limits: Limiter | undefined
  let caches: CacheStore | undefined
  try {
    const adminToken = loadAdminToken({
      dataDir: config.dataDir,
      env,
      announce: options.announce ?? ((message) => process.stderr.write(`${message}\n`)),
    })
    const models = store.models.syncFromConfig(config.models)
    // No nvidia-smi means no GPUs (ARCHITECTURE.md): llama.cpp containers then default to the CPU image.
    const hasGpus = (await findExecutable('nvidia-smi', env.PATH ?? '')) !== null
    const settings = createSettings(store.settings)
    const dockerRuntime = createDockerRuntime({
      instance: store.instanceId,
      logger,
      dockerHost: env.DOCKER_HOST,
      hasGpus,
      hfCache: settings.hfCache() ?? undefined,
      secretEnv: settings.secretEnv,
    })
    docker = dockerRuntime
    const engines = createEngineManager({
      models,
      pids: store.pids,
      logger,
      llamaServer: config.engines.llamaServer,
      stopOnExit: config.engines.stopOnExit,
      coldStartWaitMs: options.coldStartWaitMs,
      drivers: { docker: (def) => dockerRuntime.driver(def) },
      placement: { readGpus: () => readGpus(), need: modelNeed },
    })
    await engines.reapLeftovers()
    engines.adopt(await dockerRuntime.reconcile(models))
    const now = options.now ?? Date.now
    const modelService = createModelService({
      repo: store.models,
      engines,
      logger,
      env,
      machineHasGpus: hasGpus,
      docker: dockerRuntime,
      dryRun: { llamaServer: config.engines.llamaServer, containerPlan: (def) => dockerRuntime.plan(def) },
      // Made below, once the models exist; read only when a model is created or edited.
      routes: () => routeService.table,
    })
    const system = createSystemMonitor({
      attribute: createAttribution({
        statuses: () => engines.statuses(),
        modelOfContainer: (id) => dockerRuntime.modelOfContainer(id),
      }),
      logger,
      cortex: { dataDir: config.dataDir, llamaServer: config.engines.llamaServer, docker: () => dockerRuntime.status() },
    })
    // A cache in Redis is shared by the gateways that use it; else it lives in this data directory's database.
    const cache = config.cache.redis === null ? store.cache : await createRedisCache({ url: config.cache.redis, logger })
    caches = cache
    const metrics = createMetrics({ engines, system, cache })
    const limiter = await createLimiter(config, store, logger)
    limits = limiter
    const recipes = createRecipeService({ importDir: path.join(config.dataDir, 'recipes'), logger })
    const sessions = createSessions({ repo: store.sessions, users: store.users, adminToken })
    // Named per data directory: cookies are not isolated by port, so two Cortex on one host must not share one.
    const cookie = {
      name: `cortex_session_${store.instanceId.replace(/[^A-Za-z0-9]/g, '').slice(0, 12)}`,
      trustProxy: config.server.trustProxy,
    }
    const serving = createServing()
    const routeService = createRouteService({ repo: store.routes, fromConfig: config.routes, models: () => engines.statuses() })
    const routes = routeService.table
    const orgName = (id: string) => store.orgs.get(id)?.name
    const usage = metricsSink(store.usage, metrics)
    // The playground's answers take the /v1 request path in process: the same registry, limits, routes and usage sink.
    const chats = createChatService({
      repo: store.chats,
      proxy: { registry: engines, usage, options: defaultProxyOptions, limiter, routes, orgName, now, cache },
      serving,
      logger,
    })
    const http = buildApp({
      config,
      serving,
      routes,
      now,
      orgName,
      cache,
      registry: engines,
      usage,
      keys: store.keys,
      limiter,
      onRefused: (reason) => metrics.refused(reason),
      logger,
      admin: {
        token: adminToken,
        accounts: store,
        usage: (query) => store.usageReport(query),
        models: modelService,
        images: dockerRuntime,
        settings,
        recipes,
        routes: routeService,
        // The scheduler is made once the app exists; /events subscribes only when a stream opens.
        schedules: { subscribe: (fn) => scheduler.subscribe(fn) },
        system,
        serving,
        chats,
        sessions: {
          service: sessions,
          cookie,
          publicUrl: (req) => `${overTls(req, cookie.trustProxy) ? 'https' : 'http'}://${req.headers.host ?? '127.0.0.1'}`,
        },
      },
      console: { dir: defaultConsoleDir() },
      metrics: { registry: metrics.registry, token: adminToken, engines: () => scrapeEngines(engines.statuses(), { logger }) },
    })
    let closing: Promise<void> | undefined
    const close = () =>
      (closing ??= (async () => {
        try {
          scheduler.close()
          await closeHttp(http, config.server.shutdownTimeoutMs, logger)
          metrics.close()
          await system.close()
        } finally {
          // Whatever failed before, no engine process may outlive the close.
          await engines.close()
        }
        await dockerRuntime.close()
        await limiter.close()
        await cache.close()
        store.close()
        await new Promise<void>((resolve) => logger.flush(() => resolve()))
      })())
    const scheduler = createScheduler({
      engines,
      models: () => modelService.list(),
      now,
      logger,
    })
    void scheduler.tick()
    const signInCode = () => sessions.mintCode()
    return {
      config,
      http,
      engines,
      models: modelService,
      docker: dockerRuntime,
      store,
      metrics,
      logger,
      scheduler,
      signInCode,
      close,
    }
  } catch (err) {
    await docker?.close()
    await limits?.close()
    await caches?.close()
    store.close()
    throw err
  }
}

/** Limits in Redis when `limits.redis` is set, else in memory; daily ones start from today's usage rows. */
async function createLimiter(config: CortexConfig, store: Store, logger: Logger): Promise<Limiter> {
  const since = Math.floor(Date.now() / DAY_MS) * DAY_MS
  const usedToday = new Map<string, number>()
  for (const [id, tokens] of store.keys.tokensSince(since)) {
    const hash = store.keys.get(id)?.hash
    if (hash !== undefined) usedToday.set(hash, tokens)
  }
  if (config.limits.redis === null) return createMemoryLimiter({ usedToday })
  return createRedisLimiter({ url: config.limits.redis, usedToday, logger })
}

/** Fastify's close waits for in-flight requests; a stream can last minutes, so the wait is bounded (0 = wait for all). */
async function closeHttp(http: FastifyInstance, timeoutMs: number, logger: Logger): Promise<void> {
  if (timeoutMs === 0) return http.close()
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)))
  const closed = http.close()
  const outcome = await Promise.race([closed.then(() => 'closed' as const), deadline])
  clearTimeout(timer)
  if (outcome === 'timeout') {
    logger.warn({ timeoutMs }, 'in-flight requests outlasted the shutdown timeout; closing their connections')
    http.server.closeAllConnections()
    // The cut requests record their usage (499) as their connections close: wait for that before the store closes.
    await closed
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|\[::1\])$/

export interface StartOptions extends CoreOptions {
  flags: CliFlags
  env: NodeJS.ProcessEnv
  /** A configuration already loaded (the desktop app reads the data directory first and sets the port and
   *  `engines.stopOnExit` from its own settings); else it is loaded from `flags` and `env`. */
  config?: CortexConfig
}

export interface RunningServer {
  core: Core
  /** http://host:port of the listening gateway. */
  url: string
  close(): Promise<void>
}

/** Loads the configuration, builds the core and listens: what `cortex serve` and the desktop app run. */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const config = options.config ?? loadConfig({ flags: options.flags, env: options.env })
  const { host, port, allowRemote } = config.server
  if (!LOOPBACK.test(host) && !config.auth.required && !allowRemote) {
    throw new Error(
      `refusing to listen on ${host}: auth.required is false, so anyone who can reach this address could use your GPUs ` +
        'without a key. Turn auth.required back on, listen on 127.0.0.1, or pass --allow-remote if that is what you want.',
    )
  }
  const core = await createCore(config, options)
  try {
    await core.http.listen({ host, port })
  } catch (err) {
    await core.close()
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`port ${port} on ${host} is already in use: stop what holds it, or pass --port / set CORTEX_PORT`, {
        cause: err,
      })
    }
    throw err
  }
  const address = core.http.server.address()
  const boundPort = typeof address === 'object' && address ? address.port : port
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`
  // Clients of this data directory (the CLI, the desktop app) find the server here, even on a port picked at start.
  const forgetListening = writeListening(config.dataDir, `http://${connectHost(host)}:${boundPort}`)
  const metricsPort = config.metrics.port
  let metricsServer: MetricsServer | null = null
  if (metricsPort !== null) {
    try {
      metricsServer = await startMetricsServer({
        registry: core.metrics.registry,
        port: metricsPort,
        hostAllowed: hostCheck(config.server.allowedHosts),
        engines: () => scrapeEngines(core.engines.statuses(), { logger: core.logger }),
        logger: core.logger,
      })
    } catch (err) {
      forgetListening()
      await core.close()
      throw err
    }
  }
  return {
    core,
    url,
    close: async () => {
      forgetListening()
      await metricsServer?.close()
      await core.close()
    },
  }
}
