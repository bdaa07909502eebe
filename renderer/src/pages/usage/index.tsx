import { useMemo } from 'react'
import { type LoaderFunctionArgs, useSearchParams } from 'react-router'
import { usageCsvUrl } from '../../api.js'
import { Empty, ErrorState, Loading, NeedsNewerGateway } from '../../components/States.js'
import { useStore } from '../../store/index.js'
import { loadUsage } from '../../store/loaders.js'
import { dataOf } from '../../store/remote.js'
import { formatDateTime } from '../../units.js'
import { GROUPS, paramsOf, RANGES, searchOf, selectionOf, type Selection } from './params.js'
import { chartRows, orderedRows } from './rows.js'
import { UsageChart } from './UsageChart.js'
import { UsageTable } from './UsageTable.js'
import './usage.css'

/** Runs again whenever the address changes: the range and grouping live there. */
export function loader({ request }: LoaderFunctionArgs) {
  const now = Date.now()
  void loadUsage(paramsOf(selectionOf(new URL(request.url).searchParams, now), now))
  return null
}

/** Requests, tokens, errors and latency over a range, by model, day, key or organization (issue 11). */
export function Component() {
  const [search, setSearch] = useSearchParams()
  const selection = selectionOf(search, Date.now())
  const usage = useStore((s) => s.usage)
  const report = dataOf(usage)
  const rows = useMemo(() => (report ? orderedRows(report) : []), [report])
  const bars = useMemo(() => (report ? chartRows(report, rows) : []), [report, rows])
  const choose = (change: Partial<Selection>) => setSearch(searchOf({ ...selection, ...change }))

  let body
  if (usage.status === 'error' && usage.missing) body = <NeedsNewerGateway feature="Usage" />
  else if (usage.status === 'error' && report === null)
    body = (
      <ErrorState
        title="Could not load usage"
        message={usage.error}
        onRetry={() => void loadUsage(paramsOf(selection, Date.now()))}
      />
    )
  else if (report === null) body = <Loading label="Counting requests…" />
  else if (report.total.requests === 0)
    body = (
      <Empty title="No requests in this range">
        Requests on <code>/v1</code> show up here as they are answered. Pick a longer range, or another one.
      </Empty>
    )
  else
    body = (
      <>
        <section className="panel" aria-label="Usage chart">
          <UsageChart rows={bars} groupBy={report.groupBy} />
        </section>
        <UsageTable rows={rows} total={report.total} groupBy={report.groupBy} />
      </>
    )

  return (
    <div className="usage-page">
      <div className="page-head">
        <h1>Usage</h1>
        <span className="spacer" />
        {report && (
          <a
            className="button"
            href={usageCsvUrl({ groupBy: report.groupBy, from: Date.parse(report.from), to: Date.parse(report.to) })}
            download
            data-testid="usage-csv"
          >
            Export CSV
          </a>
        )}
      </div>
      <div className="usage-controls">
        <div className="segmented" role="group" aria-label="Range">
          {RANGES.map((r) => (
            <button
              key={r.id}
              type="button"
              className={selection.range === r.id ? 'active' : ''}
              aria-pressed={selection.range === r.id}
              onClick={() => choose({ range: r.id })}
              data-testid={`range-${r.id}`}
            >
              {r.label}
            </button>
          ))}
        </div>
        <div className="segmented" role="group" aria-label="Group by">
          {GROUPS.map((g) => (
            <button
              key={g.id}
              type="button"
              className={selection.groupBy === g.id ? 'active' : ''}
              aria-pressed={selection.groupBy === g.id}
              onClick={() => choose({ groupBy: g.id })}
              data-testid={`group-${g.id}`}
            >
              {g.label}
            </button>
          ))}
        </div>
        {selection.range === 'custom' && (
          <div className="usage-days">
            <label className="field">
              <span>From</span>
              <input
                type="date"
                value={selection.fromDay}
                max={selection.toDay}
                onChange={(e) => e.target.value && choose({ fromDay: e.target.value })}
                data-testid="usage-from"
              />
            </label>
            <label className="field">
              <span>To (included)</span>
              <input
                type="date"
                value={selection.toDay}
                min={selection.fromDay}
                onChange={(e) => e.target.value && choose({ toDay: e.target.value })}
                data-testid="usage-to"
              />
            </label>
          </div>
        )}
      </div>
      <p className="usage-range muted" aria-live="polite" data-testid="usage-range">
        {report ? `${formatDateTime(report.from)} to ${formatDateTime(report.to)}` : ' '}
        {usage.status === 'loading' && report && <span> · updating…</span>}
        {usage.status === 'error' && report && <span className="usage-stale"> · could not update: {usage.error}</span>}
      </p>
      {body}
    </div>
  )
}
