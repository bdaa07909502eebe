import type { Diagnosis, EngineState } from '../../../../gateway/contract/index.js'
import type { AnyModelView } from '../../api.js'
import { useNow } from '../../components/useNow.js'
import { isFullModel } from '../../store/selectors.js'
import { formatBytes, formatDuration } from '../../units.js'
import type { Estimate } from './useEstimate.js'

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
  // Whole seconds: a ticking decimal would jitter.
  const elapsed = Math.max(0, now - startingSince)
  return (
    <span className="load-progress" data-testid="load-progress">
      {lastStartMs !== null && <progress max={lastStartMs} value={Math.min(elapsed, lastStartMs)} aria-label="Start progress" />}
      <span className="muted">
        {elapsed < 60_000 ? `${Math.floor(elapsed / 1000)} s` : formatDuration(elapsed)}
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
      <span className="visually-hidden">
        {' '}
        running{replicas.length > 0 && `: ${replicas.map((r) => `replica ${r.index} ${r.state}`).join(', ')}`}
      </span>
    </span>
  )
}

/** GPU memory the model's engines hold now (from the monitor's attribution), with the dry-run's estimate under it. */
export function GpuMemory({ used, estimate }: { used: number | null; estimate: Estimate }) {
  return (
    <span className="gpu-memory" data-testid="gpu-memory" title={estimate.error ?? undefined}>
      <span>{used === null || used === 0 ? '—' : formatBytes(used)}</span>
      {estimate.bytes !== null && <span className="muted small">est. {formatBytes(estimate.bytes)}</span>}
    </span>
  )
}

/** Headlines for the gateway's diagnosis causes; its message says the rest (what to fix). */
const CAUSE: Record<string, string> = {
  model_file_missing: 'The model file is missing',
  model_file_unreadable: 'The model file cannot be read',
  not_gguf: 'Not a GGUF file',
  unsupported_model: 'The engine does not support this model',
  unsupported_quantization: 'The engine does not support this quantization',
  model_load_failed: 'The engine could not load the model',
  model_incomplete: 'The model is incomplete',
  model_not_found: 'The model was not found',
  model_not_downloaded: 'The model is not downloaded',
  model_gated: 'The model is gated',
  insufficient_vram: 'Not enough GPU memory',
  out_of_memory: 'Out of memory',
  port_in_use: 'The port is in use',
  unknown_flag: 'The engine does not know a flag',
  bad_flag_value: 'A flag has a wrong value',
  image_missing: 'The image is missing',
  docker_unavailable: 'Docker is not available',
  shm_too_small: 'Shared memory is too small',
  remote_unreachable: 'The endpoint does not answer',
  start_timeout: 'The start took too long',
  exited: 'The engine exited',
}
const headline = (cause: string) => CAUSE[cause] ?? cause.charAt(0).toUpperCase() + cause.slice(1).replaceAll('_', ' ')

/** What went wrong and its fix first, then the engine's last lines. */
export function DiagnosisView({ diagnosis, lines = 12 }: { diagnosis: Diagnosis; lines?: number }) {
  const tail = diagnosis.logTail.slice(-lines)
  return (
    <div className="diagnosis" data-testid="diagnosis" role="alert">
      <p className="diagnosis-message">
        <strong>{headline(diagnosis.cause)}</strong>
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
