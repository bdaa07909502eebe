import type Database from 'better-sqlite3'
import type { Logger } from 'pino'
import type { UsageRecord } from '../contract/usage.js'
import type { UsageWriter } from './types.js'

export interface UsageBufferOptions {
  logger: Logger
  flushIntervalMs?: number
  /** Rows buffered before a flush is scheduled without waiting for the timer. */
  batchSize?: number
  /** Rows kept while flushes fail; past it the oldest are dropped. */
  maxBuffered?: number
}

export interface ClosableUsageWriter extends UsageWriter {
  /** Stops the timer and flushes what is left. */
  close(): void
}

/**
 * Usage rows off the request path: `record` only pushes to memory; a timer (and a full batch) writes them
 * in one transaction. A failed write keeps the rows for the next try, so a locked or full disk loses nothing
 * until the buffer bound.
 */
export function createUsageWriter(db: Database.Database, options: UsageBufferOptions): ClosableUsageWriter {
  const { logger, flushIntervalMs = 1000, batchSize = 512, maxBuffered = 100_000 } = options
  const insert = db.prepare(`
    INSERT INTO usage (ts, request_id, key_id, org_id, model, replica, endpoint, status, stream, prompt_tokens, completion_tokens, ttft_ms, total_ms, bytes_in, bytes_out)
    VALUES (@ts, @requestId, @keyId, @orgId, @model, @replica, @endpoint, @status, @stream, @promptTokens, @completionTokens, @ttftMs, @totalMs, @bytesIn, @bytesOut)`)
  const insertAll = db.transaction((rows: UsageRecord[]) => {
    for (const row of rows) insert.run({ ...row, stream: row.stream ? 1 : 0 })
  })

  let buffer: UsageRecord[] = []
  let scheduled = false
  // After a failed write, only the timer retries: a full batch must not turn every request into a retry.
  let failing = false
  let closed = false

  const flush = (): void => {
    if (buffer.length === 0) return
    const rows = buffer
    buffer = []
    try {
      insertAll(rows)
      failing = false
    } catch (err) {
      failing = true
      buffer = rows.concat(buffer)
      const dropped = buffer.length - maxBuffered
      if (dropped > 0) {
        buffer = buffer.slice(dropped)
        logger.warn({ dropped, kept: buffer.length }, 'usage buffer full while writes fail; dropped the oldest rows')
      }
      logger.error({ err, buffered: buffer.length }, 'writing usage rows failed; keeping them for the next try')
    }
  }

  const timer = setInterval(flush, flushIntervalMs)
  timer.unref()

  return {
    record(row) {
      if (closed) {
        logger.warn({ requestId: row.requestId }, 'usage row recorded after the store closed; dropped')
        return
      }
      buffer.push(row)
      if (buffer.length >= batchSize && !scheduled && !failing) {
        scheduled = true
        setImmediate(() => {
          scheduled = false
          if (!closed) flush()
        })
      }
    },
    flush,
    close() {
      if (closed) return
      clearInterval(timer)
      flush()
      closed = true
      if (buffer.length > 0)
        logger.error({ lost: buffer.length }, 'usage rows could not be written before closing; they are lost')
    },
  }
}
