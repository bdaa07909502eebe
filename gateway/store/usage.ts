import type Database from 'better-sqlite3'
import type { Logger } from 'pino'
import type { UsageRecord } from '../contract/usage.js'
import type { UsageWriter } from './types.js'

export interface UsageWriterOptions {
  logger: Logger
  /** How often rows kept after a failed write are tried again. */
  retryIntervalMs?: number
  /** Rows kept while writes fail; past it the oldest are dropped. */
  maxKept?: number
}

export interface ClosableUsageWriter extends UsageWriter {
  /** Stops the retry timer and writes what is kept. */
  close(): void
}

/**
 * Each row is committed as it is recorded: one prepared INSERT in its own transaction. In WAL with
 * synchronous=NORMAL the commit is in the WAL file when `record` returns, so it survives a kill of the process
 * the next instant (a power cut may lose the last commits; that is the price of no fsync per row). The proxy
 * records before an answer's last byte, so no answered request goes unrecorded. Cost per row: bench/usage-write.ts.
 *
 * A failed write (the CLI holding the write lock past busy_timeout, a full disk) keeps the row in memory, and so do
 * the rows after it until the timer has written them all, in one transaction: a failing disk costs one try per
 * interval, not one per request, and loses nothing until the bound.
 */
export function createUsageWriter(db: Database.Database, options: UsageWriterOptions): ClosableUsageWriter {
  const { logger, retryIntervalMs = 1000, maxKept = 100_000 } = options
  const insert = db.prepare(`
    INSERT INTO usage (ts, request_id, key_id, org_id, user, model, route, replica, endpoint, status, stream, prompt_tokens, completion_tokens, ttft_ms, total_ms, bytes_in, bytes_out, cache)
    VALUES (@ts, @requestId, @keyId, @orgId, @user, @model, @route, @replica, @endpoint, @status, @stream, @promptTokens, @completionTokens, @ttftMs, @totalMs, @bytesIn, @bytesOut, @cache)`)
  const write = (row: UsageRecord) =>
    insert.run({ ...row, user: row.user ?? null, cache: row.cache ?? null, stream: row.stream ? 1 : 0 })
  const writeAll = db.transaction((rows: UsageRecord[]) => {
    for (const row of rows) write(row)
  })

  let kept: UsageRecord[] = []
  let closed = false

  const keep = (rows: UsageRecord[], err: unknown) => {
    kept = rows.concat(kept)
    const dropped = kept.length - maxKept
    if (dropped > 0) {
      kept = kept.slice(dropped)
      logger.warn({ dropped, kept: kept.length }, 'usage rows kept while writes fail are past the bound; dropped the oldest')
    }
    logger.error({ err, kept: kept.length }, 'writing usage rows failed; keeping them for the next try')
  }

  const flush = (): void => {
    if (kept.length === 0) return
    const rows = kept
    kept = []
    try {
      writeAll(rows)
    } catch (err) {
      keep(rows, err)
    }
  }

  const timer = setInterval(flush, retryIntervalMs)
  timer.unref()

  return {
    record(row) {
      if (closed) {
        logger.warn({ requestId: row.requestId }, 'usage row recorded after the store closed; dropped')
        return
      }
      if (kept.length > 0) {
        kept.push(row)
        return
      }
      try {
        write(row)
      } catch (err) {
        keep([row], err)
      }
    },
    flush,
    close() {
      if (closed) return
      clearInterval(timer)
      flush()
      closed = true
      if (kept.length > 0) logger.error({ lost: kept.length }, 'usage rows could not be written before closing; they are lost')
    },
  }
}
