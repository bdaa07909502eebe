import type Database from 'better-sqlite3'
import type { UsageGroup, UsageGroupBy, UsageReport, UsageReportQuery } from '../contract/index.js'

type GroupKey = string | null
type Percentiles = NonNullable<UsageGroup['latencyMs']>

/** The SQL that yields each row's group, and the name lookup for groups that are ids. Fixed text only: never input. */
const GROUPS: Record<UsageGroupBy, { expr: string; names?: string }> = {
  model: { expr: 'model' },
  key: { expr: 'key_id', names: 'api_keys' },
  org: { expr: 'org_id', names: 'orgs' },
  // The admin token's built-in admin has no row in users.
  user: { expr: 'user', names: "(SELECT id, name FROM users UNION ALL SELECT 'admin', 'admin')" },
  day: { expr: "strftime('%Y-%m-%d', ts / 1000, 'unixepoch')" },
}

interface AggregateRow {
  grp: GroupKey
  name: string | null
  requests: number
  errors: number
  promptTokens: number
  completionTokens: number
  bytesIn: number
  bytesOut: number
  ttftCount: number
}

/**
 * Usage in `[from, to)` per group, plus a total. Sums and counts come from one GROUP BY; percentiles are computed
 * here (SQLite has none) by streaming values sorted by group then value. Everything runs in one read transaction so
 * the counts the percentiles rely on match the rows streamed afterwards.
 */
export function usageReport(db: Database.Database, query: UsageReportQuery): UsageReport {
  const { groupBy, from, to } = query
  const { expr, names } = GROUPS[groupBy]
  const params: Record<string, string | number> = { from, to }
  let where = 'ts >= @from AND ts < @to'
  if (query.orgId !== undefined) {
    where += ' AND org_id = @orgId'
    params.orgId = query.orgId
  }
  if (query.keyId !== undefined) {
    where += ' AND key_id = @keyId'
    params.keyId = query.keyId
  }

  const aggregate = db.prepare<[Record<string, string | number>], AggregateRow>(`
    SELECT a.*, ${names === undefined ? 'a.grp' : 'n.name'} AS name FROM (
      SELECT ${expr} AS grp, count(*) AS requests, sum(status >= 400) AS errors,
        coalesce(sum(prompt_tokens), 0) AS promptTokens, coalesce(sum(completion_tokens), 0) AS completionTokens,
        sum(bytes_in) AS bytesIn, sum(bytes_out) AS bytesOut, count(ttft_ms) AS ttftCount
      FROM usage WHERE ${where} GROUP BY grp
    ) a ${names === undefined ? '' : `LEFT JOIN ${names} n ON n.id = a.grp`}
    ORDER BY a.grp IS NULL, a.grp`)
  const sorted = (column: string, grp: string) =>
    db.prepare<[Record<string, string | number>], Ranked>(
      `SELECT ${grp} AS grp, ${column} AS v FROM usage WHERE ${where} AND ${column} IS NOT NULL ORDER BY grp, v`,
    )

  return db.transaction((): UsageReport => {
    const rows = aggregate.all(params)
    const latency = pickPercentiles(
      sorted('total_ms', expr).iterate(params),
      countsOf(rows, (r) => r.requests),
    )
    const ttft = pickPercentiles(
      sorted('ttft_ms', expr).iterate(params),
      countsOf(rows, (r) => r.ttftCount),
    )
    const groups = rows.map((r) => group(r, latency.get(r.grp) ?? null, ttft.get(r.grp) ?? null))

    const sum = (pick: (r: AggregateRow) => number) => rows.reduce((n, r) => n + pick(r), 0)
    const all: AggregateRow = {
      grp: null,
      name: null,
      requests: sum((r) => r.requests),
      errors: sum((r) => r.errors),
      promptTokens: sum((r) => r.promptTokens),
      completionTokens: sum((r) => r.completionTokens),
      bytesIn: sum((r) => r.bytesIn),
      bytesOut: sum((r) => r.bytesOut),
      ttftCount: sum((r) => r.ttftCount),
    }
    // The total's percentiles are over every row at once: NULL as the one group, streamed in value order.
    const totalLatency = pickPercentiles(sorted('total_ms', 'NULL').iterate(params), new Map([[null, all.requests]]))
    const totalTtft = pickPercentiles(sorted('ttft_ms', 'NULL').iterate(params), new Map([[null, all.ttftCount]]))
    const total = group(all, totalLatency.get(null) ?? null, totalTtft.get(null) ?? null)

    return { groupBy, from: new Date(from).toISOString(), to: new Date(to).toISOString(), groups, total }
  })()
}

function countsOf(rows: AggregateRow[], count: (r: AggregateRow) => number): Map<GroupKey, number> {
  return new Map(rows.map((r) => [r.grp, count(r)]))
}

function group(r: AggregateRow, latencyMs: Percentiles | null, ttftMs: Percentiles | null): UsageGroup {
  return {
    key: r.grp,
    name: r.name,
    requests: r.requests,
    errors: r.errors,
    errorRate: r.requests === 0 ? 0 : r.errors / r.requests,
    promptTokens: r.promptTokens,
    completionTokens: r.completionTokens,
    totalTokens: r.promptTokens + r.completionTokens,
    bytesIn: r.bytesIn,
    bytesOut: r.bytesOut,
    latencyMs,
    ttftMs,
  }
}

interface Ranked {
  grp: GroupKey
  v: number
}

const PERCENTILES = [50, 95, 99] as const

/**
 * Nearest-rank percentiles (no interpolation): the p-th of n sorted values is the ceil(p·n/100)-th, so every answer
 * is a value that was measured. Since each group's count is known beforehand, the rows are only counted as they
 * stream past and the three ranked values kept: memory stays constant however many rows a group has.
 */
function pickPercentiles(rows: Iterable<Ranked>, counts: Map<GroupKey, number>): Map<GroupKey, Percentiles> {
  const out = new Map<GroupKey, Percentiles>()
  let current: GroupKey | undefined
  let seen = 0
  let ranks: number[] = []
  let picked: number[] = []
  for (const { grp, v } of rows) {
    if (grp !== current) {
      current = grp
      seen = 0
      const n = counts.get(grp) ?? 0
      ranks = PERCENTILES.map((p) => Math.max(1, Math.ceil((p * n) / 100)))
      picked = []
    }
    seen += 1
    ranks.forEach((rank, i) => {
      if (rank === seen) picked[i] = v
    })
    if (seen === ranks.at(-1)) out.set(grp, { p50: picked[0]!, p95: picked[1]!, p99: picked[2]! })
  }
  return out
}

const CSV_COLUMNS = [
  'name',
  'requests',
  'errors',
  'errorRate',
  'promptTokens',
  'completionTokens',
  'totalTokens',
  'bytesIn',
  'bytesOut',
  'latencyP50Ms',
  'latencyP95Ms',
  'latencyP99Ms',
  'ttftP50Ms',
  'ttftP95Ms',
  'ttftP99Ms',
] as const

/** RFC 4180: CRLF line ends, a header row named after the grouping, then one row per group; null is an empty field. */
export function usageCsv(report: UsageReport): string {
  const lines = [[report.groupBy, ...CSV_COLUMNS].map(csvField)]
  for (const g of report.groups) {
    lines.push(
      [
        g.key,
        g.name,
        g.requests,
        g.errors,
        g.errorRate,
        g.promptTokens,
        g.completionTokens,
        g.totalTokens,
        g.bytesIn,
        g.bytesOut,
        g.latencyMs?.p50,
        g.latencyMs?.p95,
        g.latencyMs?.p99,
        g.ttftMs?.p50,
        g.ttftMs?.p95,
        g.ttftMs?.p99,
      ].map(csvField),
    )
  }
  return lines.map((fields) => `${fields.join(',')}\r\n`).join('')
}

function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return ''
  const text = String(value)
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}
