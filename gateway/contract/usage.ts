import Type, { type Static } from 'typebox'

/** What the usage report's rows are: one per model, API key, organization, console user (chats) or UTC day. */
export const UsageGroupBy = Type.Union([
  Type.Literal('model'),
  Type.Literal('key'),
  Type.Literal('org'),
  Type.Literal('user'),
  Type.Literal('day'),
])
export type UsageGroupBy = Static<typeof UsageGroupBy>

/** How `from` and `to` may be written, in the words of the error a bad one gets. */
export const USAGE_INSTANT_FORM = 'an ISO 8601 date or time (2025-01-31, 2025-01-31T12:00:00Z) or epoch milliseconds'

// A `+` that a client did not percent-encode arrives as a space, so `12:00:00+02:00` typed into curl still parses.
const Instant = Type.String({
  pattern: '^(\\d{1,16}|\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+ -]\\d{2}:?\\d{2})?)?)$',
  description: USAGE_INSTANT_FORM,
})

/**
 * `GET /admin/api/usage`. `from` is inclusive and `to` exclusive (`to=2025-02-01` ends with January 31); a date is
 * midnight UTC, and a time without an offset is UTC too. Without them: the last 30 days up to now.
 */
export const UsageQuery = Type.Object(
  {
    groupBy: Type.Optional(Type.Union(UsageGroupBy.anyOf, { default: 'model' })),
    from: Type.Optional(Instant),
    to: Type.Optional(Instant),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')], { default: 'json' })),
    /** One organization's usage (its name or id); the admin token only: a key always sees its own organization. */
    org: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
)
export type UsageQuery = Static<typeof UsageQuery>

const Percentiles = Type.Union([Type.Object({ p50: Type.Number(), p95: Type.Number(), p99: Type.Number() }), Type.Null()])

/** One row of the report; `total` has the same shape with `key` and `name` null. */
export const UsageGroup = Type.Object({
  /** The model name, key id, organization id, user id or `YYYY-MM-DD` (UTC); null gathers rows with no key, no
   *  organization or no user. */
  key: Type.Union([Type.String(), Type.Null()]),
  /** The key's, organization's or user's name (null when it is unknown); for models and days the same as `key`. */
  name: Type.Union([Type.String(), Type.Null()]),
  requests: Type.Integer(),
  /** Answers with status >= 400, including 499 (the client went away). */
  errors: Type.Integer(),
  /** errors / requests, from 0 to 1. */
  errorRate: Type.Number(),
  /** Sums over the requests that reported tokens. */
  promptTokens: Type.Integer(),
  completionTokens: Type.Integer(),
  totalTokens: Type.Integer(),
  bytesIn: Type.Integer(),
  bytesOut: Type.Integer(),
  /** Whole-request milliseconds, nearest-rank percentiles; null with no requests. */
  latencyMs: Percentiles,
  /** Milliseconds to the first token, over the requests that had one; null when none did. */
  ttftMs: Percentiles,
})
export type UsageGroup = Static<typeof UsageGroup>

/** The answer to `GET /admin/api/usage?format=json`. */
export const UsageReport = Type.Object({
  groupBy: UsageGroupBy,
  /** ISO 8601: the range the report covers, `from` inclusive, `to` exclusive. */
  from: Type.String(),
  to: Type.String(),
  groups: Type.Array(UsageGroup),
  total: UsageGroup,
})
export type UsageReport = Static<typeof UsageReport>

/** What the store reports on: epoch ms bounds (`from` inclusive, `to` exclusive), and for an `admin:read` key the
 *  organization or key whose rows alone it may see. */
export interface UsageReportQuery {
  groupBy: UsageGroupBy
  from: number
  to: number
  orgId?: string
  keyId?: string
}

/** One row per proxied request, committed before the last byte of its answer goes out. */
export interface UsageRecord {
  ts: number
  requestId: string
  /** The API key's id; null for a keyless caller (auth off, or loopback with allowLoopbackWithoutKey). */
  keyId: string | null
  /** The key's organization, when it has one. */
  orgId: string | null
  /** The console user of a chat playground request (`admin` for the admin token's built-in admin); else absent. */
  user?: string | null
  /** The model that served (a route's target when the request came through a route). */
  model: string
  /** The route the request named; null when it named a model. */
  route: string | null
  replica: number | null
  endpoint: string
  status: number
  stream: boolean
  promptTokens: number | null
  completionTokens: number | null
  ttftMs: number | null
  totalMs: number
  /** Milliseconds waiting for a cold start or a queue slot (Lease.waitedMs); null when the request was never admitted. */
  queueMs: number | null
  /** The gateway's own milliseconds before the engine got the body (parsing, routing, rewriting), without the queue
   *  wait; null when the body was never sent. */
  overheadMs: number | null
  bytesIn: number
  bytesOut: number
  /** A cacheable request answered from the completion cache (`hit`, with no tokens) or by the engine (`miss`); absent
   *  or null when the request was not cacheable. */
  cache?: 'hit' | 'miss' | null
}

export interface UsageSink {
  /** Synchronous and durable: once it returns the row is committed (or kept to retry when the disk fails), so a
   *  caller that records before it ends the answer loses no row to a kill of the process. */
  record(row: UsageRecord): void
  /** Durable once the promise resolves: the rows recorded in one event-loop turn are committed together, in one
   *  transaction, at the turn's end. The request path awaits it before an answer's last byte, so a kill of the
   *  process right after loses no row, at a fraction of a commit per row. */
  recordGrouped(row: UsageRecord): Promise<void>
}
