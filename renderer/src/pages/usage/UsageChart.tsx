import { useId, useMemo, useState } from 'react'
import type { UsageGroup, UsageGroupBy } from '../../../../gateway/contract/index.js'
import { Chart, type ChartSeries } from '../../components/chart/Chart.js'
import { METRICS, rowLabel, type MetricId } from './rows.js'

/** One bar per row of the report, for the figure picked beside it. */
export function UsageChart({ rows, groupBy }: { rows: UsageGroup[]; groupBy: UsageGroupBy }) {
  const [metricId, setMetricId] = useState<MetricId>('requests')
  const pickId = useId()
  const metric = METRICS.find((m) => m.id === metricId) ?? METRICS[0]
  const data = useMemo(
    () => [rows.map((_, i) => i), rows.map((g) => metric.value(g))] as [number[], Array<number | null>],
    [rows, metric],
  )
  const x = useMemo(() => ({ kind: 'categories' as const, labels: rows.map((g) => rowLabel(g, groupBy)) }), [rows, groupBy])
  const series = useMemo<ChartSeries[]>(() => [{ label: metric.label, color: 1, format: metric.format }], [metric])
  return (
    <div className="usage-chart">
      <div className="usage-chart-head">
        <label htmlFor={pickId}>Chart</label>
        <select id={pickId} value={metricId} onChange={(e) => setMetricId(e.target.value as MetricId)} data-testid="usage-metric">
          {METRICS.map((m) => (
            <option key={m.id} value={m.id}>
              {m.label}
            </option>
          ))}
        </select>
      </div>
      <Chart data={data} series={series} x={x} height={220} label={`${metric.label} by ${groupBy}`} testId="usage-chart" />
    </div>
  )
}
