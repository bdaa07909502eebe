import { pino, type Logger } from 'pino'

/**
 * JSON logs on stdout. Secrets never reach the logger: callers log ids and names, not keys or bodies.
 * Writes are asynchronous (a synchronous write per request line was ~10% of the gateway's CPU under
 * load); `Core.close()` flushes, and a process that exits normally waits for pending writes.
 */
export function createLogger(level: string): Logger {
  return pino(
    { level, base: { name: 'cortex' }, redact: ['req.headers.authorization', 'req.headers["x-api-key"]'] },
    pino.destination({ dest: 1, sync: false }),
  )
}
