import { useMemo } from 'react'
import type { HostSample, SystemSnapshot } from '../../../../gateway/contract/index.js'
import { Chart, type ChartSeries } from '../../components/chart/Chart.js'
import { formatBytes, formatPercent } from '../../units.js'
import type { HostSeries } from './series.js'

const GIB = 1024 ** 3
const CPU: ChartSeries = { label: 'CPU', color: 6, format: (v) => `${Math.round(v)} %` }
const MEMORY: ChartSeries = { label: 'Memory', color: 1, format: (v) => `${Number(v.toFixed(v >= 10 ? 0 : 1))} GiB` }

interface Props {
  snapshot: SystemSnapshot | null
  host: HostSample | null
  series: HostSeries
  range: [number, number]
}

/** The machine around the GPUs: CPU load, memory and every disk. */
export function HostPanel({ snapshot, host, series, range }: Props) {
  const cpu = useMemo(() => [series.x, series.cpu] as [number[], Array<number | null>], [series])
  const memory = useMemo(() => [series.x, series.memoryGiB] as [number[], Array<number | null>], [series])
  const x = useMemo(() => ({ kind: 'time' as const, range }), [range])
  const totalMemory = host?.memory.totalBytes ?? snapshot?.memoryTotalBytes ?? null
  return (
    <section className="panel" aria-labelledby="host-title" data-testid="host">
      <h2 id="host-title">Host</h2>
      <div className="gpu-tiles host-tiles">
        <div className="gpu-tile">
          <div className="gpu-tile-head">
            <span className="gpu-tile-label">
              CPU
              {snapshot && (
                <span className="muted">
                  {' '}
                  {snapshot.cpu.model}, {snapshot.cpu.cores} cores
                </span>
              )}
            </span>
            <span className="gpu-figure" data-testid="host-cpu">
              {formatPercent(host?.cpuLoadPercent, true)}
            </span>
          </div>
          <Chart data={cpu} series={[CPU]} x={x} height={96} yMax={100} label="CPU load over time" testId="host-chart-cpu" />
        </div>
        <div className="gpu-tile">
          <div className="gpu-tile-head">
            <span className="gpu-tile-label">Memory</span>
            <span className="gpu-figure" data-testid="host-memory">
              {formatBytes(host?.memory.usedBytes)}
              <span className="muted"> of {formatBytes(totalMemory)}</span>
            </span>
          </div>
          <Chart
            data={memory}
            series={[MEMORY]}
            x={x}
            height={96}
            yMax={totalMemory === null ? 1 : totalMemory / GIB}
            label="Host memory used over time"
            testId="host-chart-memory"
          />
        </div>
      </div>
      <h3>Disks</h3>
      {host === null || host.disks.length === 0 ? (
        <p className="muted" data-testid="host-disks-none">
          {host === null ? 'Not read yet.' : 'No disks found.'}
        </p>
      ) : (
        <table className="grid" data-testid="host-disks">
          <thead>
            <tr>
              <th scope="col">Mount</th>
              <th scope="col">Device</th>
              <th scope="col" className="num">
                Used
              </th>
              <th scope="col" className="num">
                Size
              </th>
              <th scope="col">Use</th>
            </tr>
          </thead>
          <tbody>
            {host.disks.map((d) => {
              const share = d.sizeBytes > 0 ? d.usedBytes / d.sizeBytes : null
              return (
                <tr key={d.mount}>
                  <td className="mono">{d.mount}</td>
                  <td className="mono muted">
                    {d.fs} ({d.type})
                  </td>
                  <td className="num">{formatBytes(d.usedBytes)}</td>
                  <td className="num">{formatBytes(d.sizeBytes)}</td>
                  <td className="disk-use">
                    <span className="meter" aria-hidden="true">
                      <span style={{ width: `${Math.min(100, (share ?? 0) * 100)}%` }} />
                    </span>
                    <span className="num">{formatPercent(share)}</span>
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
      )}
    </section>
  )
}
