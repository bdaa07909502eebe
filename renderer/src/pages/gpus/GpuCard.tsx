import { memo, useMemo } from 'react'
import type { GpuSample } from '../../../../gateway/contract/index.js'
import { Chart, type ChartSeries } from '../../components/chart/Chart.js'
import { formatBytes, formatCelsius, formatPercent, formatWatts } from '../../units.js'
import { memoryParts, type GpuSeries } from './series.js'

const GIB = 1024 ** 3
const CHART_HEIGHT = 96
const round = (v: number) => String(Number(v.toFixed(v >= 10 ? 0 : 1)))

const SERIES = {
  memory: { label: 'Memory', color: 1, format: (v) => `${round(v)} GiB` },
  utilization: { label: 'Utilization', color: 3, format: (v) => `${Math.round(v)} %` },
  temperature: { label: 'Temperature', color: 2, format: (v) => `${Math.round(v)} °C` },
  power: { label: 'Power', color: 4, format: (v) => `${Math.round(v)} W` },
} satisfies Record<string, ChartSeries>

interface Props {
  gpu: GpuSample
  series: GpuSeries | undefined
  range: [number, number]
}

/** One GPU: its latest figures, memory split by model, and a chart per figure over the chosen window. */
export const GpuCard = memo(function GpuCard({ gpu, series, range }: Props) {
  const data = useMemo(() => {
    const x = series?.x ?? []
    return {
      memory: [x, series?.memoryGiB ?? []] as [number[], Array<number | null>],
      utilization: [x, series?.utilization ?? []] as [number[], Array<number | null>],
      temperature: [x, series?.temperature ?? []] as [number[], Array<number | null>],
      power: [x, series?.power ?? []] as [number[], Array<number | null>],
    }
  }, [series])
  const x = useMemo(() => ({ kind: 'time' as const, range }), [range])
  const id = `gpu-${gpu.index}`
  const total = gpu.memoryTotalBytes
  const powerOf = gpu.powerLimitW === null ? '' : ` of ${formatWatts(gpu.powerLimitW)}`
  const memoryOf = total === null ? '' : ` of ${formatBytes(total)}`
  const tiles = [
    { key: 'memory', figure: formatBytes(gpu.memoryUsedBytes), of: memoryOf, yMax: total === null ? 1 : total / GIB },
    { key: 'utilization', figure: formatPercent(gpu.utilizationPercent, true), of: '', yMax: 100 },
    { key: 'temperature', figure: formatCelsius(gpu.temperatureC), of: '', yMax: 100 },
    { key: 'power', figure: formatWatts(gpu.powerDrawW), of: powerOf, yMax: gpu.powerLimitW ?? 1 },
  ] as const
  return (
    <section className="panel gpu-card" aria-labelledby={`${id}-name`} data-testid={id}>
      <header className="gpu-head">
        <h2 id={`${id}-name`}>
          <span className="muted">GPU {gpu.index}</span> <span data-testid={`${id}-name`}>{gpu.name}</span>
        </h2>
        <span className="mono muted gpu-uuid">{gpu.uuid}</span>
      </header>
      <MemoryBar gpu={gpu} id={id} />
      <div className="gpu-tiles">
        {tiles.map((t) => (
          <div className="gpu-tile" key={t.key}>
            <div className="gpu-tile-head">
              <span className="gpu-tile-label">{SERIES[t.key].label}</span>
              <span className="gpu-figure" data-testid={`${id}-${t.key}`}>
                {t.figure}
                {t.of && <span className="muted">{t.of}</span>}
              </span>
            </div>
            <Chart
              data={data[t.key]}
              series={[SERIES[t.key]]}
              x={x}
              height={CHART_HEIGHT}
              yMax={t.yMax}
              label={`GPU ${gpu.index} ${SERIES[t.key].label.toLowerCase()} over time`}
              testId={`${id}-chart-${t.key}`}
            />
          </div>
        ))}
      </div>
    </section>
  )
})

function MemoryBar({ gpu, id }: { gpu: GpuSample; id: string }) {
  const parts = memoryParts(gpu)
  const total = gpu.memoryTotalBytes
  const free = gpu.memoryFreeBytes ?? (total !== null && gpu.memoryUsedBytes !== null ? total - gpu.memoryUsedBytes : null)
  const width = (bytes: number) => (total ? `${Math.min(100, (bytes / total) * 100)}%` : '0%')
  let model = 0
  const colored = parts.map((p) => ({ ...p, color: p.model ? `var(--chart-${(model++ % 6) + 1})` : 'var(--idle)' }))
  const summary = [...colored.map((p) => `${p.label} ${formatBytes(p.bytes)}`), `free ${formatBytes(free)}`].join(', ')
  return (
    <div className="gpu-memory" data-testid={`${id}-memory-split`}>
      <div className="gpu-memory-bar" role="img" aria-label={`Memory: ${summary}`}>
        {colored.map((p) => (
          <span key={p.label} style={{ width: width(p.bytes), background: p.color }} />
        ))}
      </div>
      <ul className="gpu-memory-legend">
        {colored.map((p) => (
          <li key={p.label} data-testid={`${id}-memory-part`}>
            <span className="swatch" style={{ background: p.color }} aria-hidden="true" />
            {p.label} <span className="num">{formatBytes(p.bytes)}</span>
          </li>
        ))}
        <li>
          <span className="swatch swatch-free" aria-hidden="true" />
          free <span className="num">{formatBytes(free)}</span>
        </li>
      </ul>
    </div>
  )
}
