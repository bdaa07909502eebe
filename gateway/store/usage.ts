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
 * `record` commits its row before it returns: one prepared INSERT in its own transaction. `recordGrouped` (the
 * request path) commits the rows of one event-loop turn together, in one transaction at the turn's end, and its
 * promise resolves once they are: the proxy awaits it before an answer's last byte, so no answered request goes
 * unrecorded, and a busy gateway pays one commit for the several answers a turn ends. In WAL with
 * synchronous=NORMAL a commit is in the WAL file once made, so it survives a kill of the process the next instant
 * (a power cut may lose the last commits; that is the price of no fsync). Cost per row: bench/usage-write.ts.
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
  // Rows of this event-loop turn (recordGrouped), committed together by the turn's setImmediate.
  let grouped: UsageRecord[] = []
  let turn: { committed: Promise<void>; resolve: () => void } | null = null

  const keep = (rows: UsageRecord[], err: unknown) => {
    kept = rows.concat(kept)
    const dropped = kept.length - maxKept
    if (dropped > 0) {
      kept = kept.slice(dropped)
      logger.warn({ dropped, kept: kept.length }, 'usage rows kept while writes fail are past the bound; dropped the oldest')
    }
    logger.error({ err, kept: kept.length }, 'writing usage rows failed; keeping them for the next try')
  }

  /** Writes rows, or keeps them behind earlier ones that wait for a retry (order is kept). */
  const writeOrKeep = (rows: UsageRecord[]): void => {
    if (kept.length > 0) {
      kept.push(...rows)
      return
    }
    try {
      if (rows.length === 1) write(rows[0]!)
      else writeAll(rows)
    } catch (err) {
      keep(rows, err)
    }
  }

  const commitTurn = (): void => {
    const rows = grouped
    const done = turn
    grouped = []
    turn = null
    if (rows.length > 0) writeOrKeep(rows)
    done?.resolve()
  }

  const flush = (): void => {
    commitTurn()
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
      writeOrKeep([row])
    },
    recordGrouped(row) {
      if (closed) {
        logger.warn({ requestId: row.requestId }, 'usage row recorded after the store closed; dropped')
        return Promise.resolve()
      }
      grouped.push(row)
      if (turn === null) {
        let resolve!: () => void
        const committed = new Promise<void>((r) => (resolve = r))
        turn = { committed, resolve }
        setImmediate(commitTurn)
      }
      return turn.committed
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
