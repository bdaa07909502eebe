import { Writable } from 'node:stream'
import { pino, type Logger } from 'pino'

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }
/** Fields every line has, or that the readable line shows in its own place. */
const SHOWN_APART = new Set(['level', 'time', 'name', 'msg', 'pid', 'hostname', 'reqId'])

/**
 * One JSON log line as a person reads it on a terminal:
 * `14:02:11 info  POST /v1/chat/completions 200 41.2ms model=qwen key=ci` for a request, and
 * `14:02:11 WARN  Redis for limits is unreachable err="…"` for the rest. A line that is not JSON passes as it is.
 */
export function readableLine(json: string): string {
  let entry: Record<string, unknown>
  try {
    entry = JSON.parse(json) as Record<string, unknown>
  } catch {
    return json
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toTimeString().slice(0, 8) : ''
  const level = (LEVELS[entry.level as number] ?? String(entry.level)).padEnd(5)
  if (entry.msg === 'request') {
    const { method, url, status, ms, model, key } = entry as Record<string, unknown>
    const extra = [model && `model=${String(model)}`, key && `key=${String(key)}`].filter(Boolean).join(' ')
    return `${time} ${level} ${String(method)} ${String(url)} ${String(status)} ${String(ms)}ms${extra ? ` ${extra}` : ''}`
  }
  const fields = Object.entries(entry)
    .filter(([k]) => !SHOWN_APART.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`)
  return `${time} ${level} ${String(entry.msg ?? '')}${fields.length ? ` ${fields.join(' ')}` : ''}`
}

/** A destination that writes each JSON line it is given as a readable one. */
function readable(out: NodeJS.WritableStream): Writable {
  let tail = ''
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      const lines = (tail + chunk.toString('utf8')).split('\n')
      tail = lines.pop()!
      for (const line of lines) if (line !== '') out.write(`${readableLine(line)}\n`)
      done()
    },
  })
}

/** JSON lines are written in batches of about this many bytes, or after FLUSH_MS, whichever comes first. */
const BATCH_BYTES = 4096
const FLUSH_MS = 200

/**
 * Logs on stdout: JSON lines, or on a terminal (format `auto`, or `pretty`) readable ones. Secrets never reach the
 * logger: callers log ids and names, not keys or bodies. JSON lines are written asynchronously and in batches: one
 * write per request line was ~15% of the gateway's CPU under load, one per ~4 KB of lines is a few lines' worth. A
 * quiet gateway's line is out within FLUSH_MS; `Core.close()` flushes, and pino writes what is pending when the
 * process exits (a SIGKILL loses at most FLUSH_MS of lines; usage rows do not wait on logs).
 */
export function createLogger(level: string, format: 'auto' | 'json' | 'pretty' = 'json'): Logger {
  const options = { level, base: { name: 'cortex' }, redact: ['req.headers.authorization', 'req.headers["x-api-key"]'] }
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true)
  if (pretty) return pino(options, readable(process.stdout))
  const out = pino.destination({ dest: 1, sync: false, minLength: BATCH_BYTES })
  const timer = setInterval(() => out.flush(), FLUSH_MS).unref()
  out.once('close', () => clearInterval(timer))
  return pino(options, out)
}
