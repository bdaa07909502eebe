import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { Bindings, ChildLoggerOptions, Logger } from 'pino'

const METHODS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/**
 * Fastify's per-request `req.log`, made only when something logs through it: a pino child per request (Fastify's
 * default) costs microseconds on every request, and almost none log more than their one line, written below
 * through the root logger.
 */
export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions): FastifyBaseLogger {
  let child: FastifyBaseLogger | undefined
  const real = () => (child ??= logger.child(bindings, opts))
  const lazy = {
    get level() {
      return child?.level ?? logger.level
    },
    set level(level: string) {
      real().level = level
    },
    child: (more: Bindings, moreOpts?: ChildLoggerOptions) => real().child(more, moreOpts),
  } as FastifyBaseLogger
  for (const method of METHODS) {
    ;(lazy as unknown as Record<string, unknown>)[method] = (...args: unknown[]) =>
      (real()[method] as (...a: unknown[]) => void)(...args)
  }
  return lazy
}

/** One compact line per request when its response is over, with the request id as a child logger would add it. */
export function logRequest(logger: Logger, req: FastifyRequest, status: number, t0: number, prompts: boolean): void {
  if (!logger.isLevelEnabled('info')) return
  const line: Record<string, unknown> = {
    reqId: req.id,
    method: req.method,
    // The path only: a query string or `;` path parameters may carry a key (some clients send ?api_key=…).
    url: req.url.split(/[?;]/, 1)[0],
    status,
    ms: Math.round((performance.now() - t0) * 100) / 100,
    model: req.cortexModel,
    // The key's name, never the key.
    key: req.cortexKey?.name,
  }
  if (prompts && Buffer.isBuffer(req.body)) line.body = req.body.toString('utf8')
  logger.info(line, 'request')
}
