import type { Diagnosis, EngineState } from '../../../../gateway/contract/index.js'
import type { AnyModelView } from '../../api.js'
import { useNow } from '../../components/useNow.js'
import { isFullModel } from '../../store/selectors.js'
import { formatDuration } from '../../units.js'

const LABEL: Record<EngineState, string> = {
  stopped: 'Stopped',
  starting: 'Starting',
  loading: 'Loading',
  running: 'Running',
  stopping: 'Stopping',
  failed: 'Failed',
}

export function StateBadge({ state }: { state: EngineState }) {
  return (
    <span className={`badge badge-${state}`} data-testid="state-badge" data-state={state}>
      <span className="badge-dot" aria-hidden="true" />
      {LABEL[state]}
    </span>
  )
}

/** "Loading · 12 s of about 40 s" with a bar, from when the start began and how long the last one took. */
export function LoadProgress({ model }: { model: AnyModelView }) {
  const now = useNow(1000)
  if (!isFullModel(model)) return null
  const { state, startingSince, lastStartMs } = model.status
  if ((state !== 'starting' && state !== 'loading') || startingSince === null) return null
  const elapsed = Math.max(0, now - startingSince)
  return (
    <span className="load-progress" data-testid="load-progress">
      {lastStartMs !== null && <progress max={lastStartMs} value={Math.min(elapsed, lastStartMs)} aria-label="Start progress" />}
      <span className="muted">
        {formatDuration(elapsed)}
        {lastStartMs !== null ? ` of about ${formatDuration(lastStartMs)}` : ' (first start)'}
      </span>
    </span>
  )
}

/** Replica states as dots, with a count of the running ones. */
export function Replicas({ model }: { model: AnyModelView }) {
  const replicas = model.status.replicas
  const wanted = isFullModel(model) ? model.replicas : replicas.length
  const running = replicas.filter((r) => r.state === 'running').length
  return (
    <span className="replicas" title={replicas.map((r) => `#${r.index}: ${r.state}, ${r.inFlight} in flight`).join('\n')}>
      {Array.from({ length: Math.max(wanted, replicas.length) }, (_, i) => {
        const r = replicas.find((x) => x.index === i)
        return <span key={i} className={`replica-dot replica-${r?.state ?? 'stopped'}`} aria-hidden="true" />
      })}
      <span className="num">
        {running}/{wanted}
      </span>
    </span>
  )
}

/** What went wrong and its fix first, then the engine's last lines. */
export function DiagnosisView({ diagnosis, lines = 12 }: { diagnosis: Diagnosis; lines?: number }) {
  const tail = diagnosis.logTail.slice(-lines)
  return (
    <div className="diagnosis" data-testid="diagnosis" role="alert">
      <p className="diagnosis-message">
        <strong>{diagnosis.cause.replaceAll('_', ' ')}</strong>
        {diagnosis.exitCode !== null && <span className="muted"> · exit code {diagnosis.exitCode}</span>}
      </p>
      <p>{diagnosis.message}</p>
      {tail.length > 0 && (
        <pre className="log-tail" tabIndex={0} aria-label="Last log lines">
          {tail.join('\n')}
        </pre>
      )}
    </div>
  )
}

export const CONFIG_REASON = 'Declared in the config file: change it there (cortex.yaml) and Cortex reloads it.'
