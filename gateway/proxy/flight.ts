import type { Ticket } from '../auth/limits.js'
import type { UsageRecord, UsageSink } from '../contract/usage.js'
import type { Usage } from './usage.js'

const NOTHING_TO_COMMIT = Promise.resolve()

/** One request's usage record, written exactly once when the request ends. */
export class Flight {
  /** The request's hold on its key's limits, settled with its real tokens when it ends. */
  ticket: Ticket | null = null
  private ended = false

  constructor(
    private readonly sink: UsageSink,
    readonly t0: number,
    readonly record: UsageRecord,
  ) {}

  /** Resolves once the row is committed: await it before the answer's last byte goes out. */
  end(status: number, usage: Usage | null): Promise<void> {
    if (this.ended) return NOTHING_TO_COMMIT
    this.ended = true
    this.record.status = status
    this.record.promptTokens = usage?.promptTokens ?? null
    this.record.completionTokens = usage?.completionTokens ?? null
    this.record.totalMs = performance.now() - this.t0
    const known = usage !== null && (usage.promptTokens !== null || usage.completionTokens !== null)
    // Tokens the engine reported; none for a request it never got (a 503 while loading must not eat the budget) or
    // refused (a 400 for a max_tokens past the context); else, as for a client that left mid-answer (499), its
    // reservation, since the engine may have generated without saying how much.
    const refused = this.record.overheadMs === null || (status >= 400 && status !== 499)
    this.ticket?.settle(known ? (usage.promptTokens ?? 0) + (usage.completionTokens ?? 0) : refused ? 0 : null)
    return this.sink.recordGrouped(this.record)
  }
}
