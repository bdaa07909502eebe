import type { UsageGroup, UsageGroupBy } from '../../../../gateway/contract/index.js'
import { formatCount, formatDuration, formatPercent } from '../../units.js'
import { GROUPS } from './params.js'
import { rowLabel } from './rows.js'

type Percentiles = UsageGroup['latencyMs']

const percentiles = (p: Percentiles) =>
  p === null ? '—' : `${formatDuration(p.p50)} / ${formatDuration(p.p95)} / ${formatDuration(p.p99)}`

function Cells({ g }: { g: UsageGroup }) {
  return (
    <>
      <td className="num" data-testid="usage-requests">
        {formatCount(g.requests)}
      </td>
      <td className="num">
        {formatCount(g.errors)} <span className="muted">({formatPercent(g.errorRate)})</span>
      </td>
      <td className="num" data-testid="usage-tokens-in">
        {formatCount(g.promptTokens)}
      </td>
      <td className="num" data-testid="usage-tokens-out">
        {formatCount(g.completionTokens)}
      </td>
      <td className="num">{percentiles(g.latencyMs)}</td>
      <td className="num">{percentiles(g.ttftMs)}</td>
    </>
  )
}

/** Every row of the report and its total: counts, tokens, errors and the latency percentiles. */
export function UsageTable({ rows, total, groupBy }: { rows: UsageGroup[]; total: UsageGroup; groupBy: UsageGroupBy }) {
  const by = GROUPS.find((g) => g.id === groupBy)?.label ?? groupBy
  return (
    // Focusable so that a keyboard can scroll it sideways on a narrow window.
    <div className="usage-table-wrap" tabIndex={0} role="region" aria-label={`Usage by ${by.toLowerCase()}, table`}>
      <table className="grid usage-table" data-testid="usage-table" aria-label={`Usage by ${by.toLowerCase()}`}>
        <thead>
          <tr>
            <th scope="col">{by}</th>
            <th scope="col" className="num">
              Requests
            </th>
            <th scope="col" className="num">
              Errors
            </th>
            <th scope="col" className="num">
              Tokens in
            </th>
            <th scope="col" className="num">
              Tokens out
            </th>
            <th scope="col" className="num">
              Latency p50 / p95 / p99
            </th>
            <th scope="col" className="num">
              First token p50 / p95 / p99
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((g) => (
            <tr key={g.key ?? ''} data-testid="usage-row" data-key={g.key ?? ''}>
              <th scope="row" className={groupBy === 'key' ? 'mono' : undefined} data-testid="usage-name">
                {rowLabel(g, groupBy)}
              </th>
              <Cells g={g} />
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr data-testid="usage-total">
            <th scope="row">Total</th>
            <Cells g={total} />
          </tr>
        </tfoot>
      </table>
    </div>
  )
}
