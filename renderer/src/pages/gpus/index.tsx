import { useState } from 'react'
import { Empty, ErrorState, Loading } from '../../components/States.js'
import { starts } from '../../routes.js'
import { useStore } from '../../store/index.js'
import { loadMonitor } from '../../store/loaders.js'
import { dataOf } from '../../store/remote.js'
import { GpuCard } from './GpuCard.js'
import { HostPanel } from './HostPanel.js'
import { memoLast, windowed } from './series.js'
import './gpus.css'

export const loader = starts(loadMonitor)

const WINDOWS = [
  { ms: 15 * 60_000, label: '15 min' },
  { ms: 60 * 60_000, label: '1 hour' },
] as const

const selectWindowed = memoLast(windowed)

/** GPUs and the host: the latest figures and live charts over the last 15 minutes or hour (issue 11). */
export function Component() {
  const status = useStore((s) => s.monitorStatus)
  const error = useStore((s) => s.monitorError)
  const samples = useStore((s) => s.samples)
  const snapshot = useStore((s) => dataOf(s.system)?.snapshot ?? null)
  const [windowMs, setWindowMs] = useState<number>(WINDOWS[0].ms)

  if (status === 'loading' && samples.length === 0) return <Loading label="Reading the GPUs…" />
  if (status === 'error' && samples.length === 0)
    return <ErrorState title="Could not read the GPUs" message={error ?? 'No answer'} onRetry={() => void loadMonitor()} />

  const latest = samples.at(-1)
  const gpus = latest?.gpus ?? []
  const host = samples.findLast((s) => s.host !== null)?.host ?? null
  const series = selectWindowed(samples, windowMs)

  return (
    <div className="gpus-page">
      <div className="page-head">
        <h1>GPUs and system</h1>
        <span className="spacer" />
        <div className="segmented" role="group" aria-label="Chart window">
          {WINDOWS.map((w) => (
            <button
              key={w.ms}
              type="button"
              className={windowMs === w.ms ? 'active' : ''}
              aria-pressed={windowMs === w.ms}
              onClick={() => setWindowMs(w.ms)}
              data-testid={`window-${w.ms / 60_000}`}
            >
              {w.label}
            </button>
          ))}
        </div>
      </div>
      {gpus.length === 0 ? (
        <Empty title="No NVIDIA GPU found">
          <p data-testid="no-gpu">{error ?? 'nvidia-smi is not on PATH, so Cortex sees no GPU on this machine.'}</p>
          <p className="muted">Models run on the CPU here; the host's CPU, memory and disks are below.</p>
        </Empty>
      ) : (
        <>
          {error && (
            <p className="gpus-warning" role="status" data-testid="monitor-warning">
              {error}
            </p>
          )}
          <div className="gpu-cards">
            {gpus.map((g) => (
              <GpuCard key={g.index} gpu={g} series={series.gpus.get(g.index)} range={series.range} />
            ))}
          </div>
        </>
      )}
      <HostPanel snapshot={snapshot} host={host} series={series.host} range={series.range} />
    </div>
  )
}
