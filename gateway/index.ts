import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { loadConfig } from './config/load.js'
import type { CliFlags, CortexConfig } from './config/types.js'
import { createEngineManager, type EngineManager } from './engines/manager.js'
import { buildApp } from './http/app.js'
import { createLogger } from './logger.js'
import { openStore } from './store/open.js'
import type { Store } from './store/types.js'

export type { CortexConfig, CliFlags } from './config/types.js'
export { ConfigError } from './config/load.js'

export interface Core {
  config: CortexConfig
  http: FastifyInstance
  engines: EngineManager
  store: Store
  logger: Logger
  /** Stops accepting, lets in-flight requests finish (bounded), stops engines, flushes usage, closes. */
  close(): Promise<void>
}

export interface CoreOptions {
  logger?: Logger
  /** How long a request waits for a cold start before 503 model_loading (default 120 s). */
  coldStartWaitMs?: number
}

/** Builds the headless core without listening: the caller decides where (STYLE.md §1). */
export async function createCore(config: CortexConfig, options: CoreOptions = {}): Promise<Core> {
  const logger = options.logger ?? createLogger(config.logging.level)
  const store = openStore(config.dataDir, { logger })
  try {
    const models = store.models.syncFromConfig(config.models)
    const engines = createEngineManager({
      models,
      pids: store.pids,
      logger,
      llamaServer: config.engines.llamaServer,
      stopOnExit: config.engines.stopOnExit,
      coldStartWaitMs: options.coldStartWaitMs,
    })
    await engines.reapLeftovers()
    const http = buildApp({ config, registry: engines, usage: store.usage, logger, isReady: () => true })
    let closing: Promise<void> | undefined
    const close = () =>
      (closing ??= (async () => {
        await closeHttp(http, config.server.shutdownTimeoutMs, logger)
        await engines.close()
        store.close()
        await new Promise<void>((resolve) => logger.flush(() => resolve()))
      })())
    return { config, http, engines, store, logger, close }
  } catch (err) {
    store.close()
    throw err
  }
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
}

export interface RunningServer {
  core: Core
  /** http://host:port of the listening gateway. */
  url: string
  close(): Promise<void>
}

/** Loads the configuration, builds the core and listens: what `cortex serve` and the desktop app run. */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const config = loadConfig({ flags: options.flags, env: options.env })
  const { host, port, allowRemote } = config.server
  if (!LOOPBACK.test(host) && !allowRemote) {
    throw new Error(
      `refusing to listen on ${host}: /v1 has no API keys yet, so anyone who can reach this address could use your GPUs. ` +
        'Listen on 127.0.0.1, or pass --allow-remote if that is what you want.',
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
  return { core, url, close: () => core.close() }
}
