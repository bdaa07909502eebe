import { pino, type Logger } from 'pino'

/** JSON logs on stdout. Secrets never reach the logger: callers log ids and names, not keys or bodies. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { name: 'cortex' }, redact: ['req.headers.authorization', 'req.headers["x-api-key"]'] })
}
