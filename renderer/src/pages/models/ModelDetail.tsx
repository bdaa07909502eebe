import { useState } from 'react'
import { Link, useNavigate, useParams } from 'react-router'
import type { ScheduleWindow } from '../../../../gateway/contract/index.js'
import { Empty, ErrorState, Loading } from '../../components/States.js'
import { useAction } from '../../components/useAction.js'
import { useNow } from '../../components/useNow.js'
import { useStore } from '../../store/index.js'
import { loadModels } from '../../store/loaders.js'
import { isFullModel, selectIsAdmin, selectModelGpuBytes } from '../../store/selectors.js'
import { formatAgo, formatCount, formatDuration } from '../../units.js'
import { EditForm } from './EditForm.js'
import { LogView } from './LogView.js'
import { ModelActions } from './ModelActions.js'
import { DiagnosisView, GpuMemory, LoadProgress, Replicas, StateBadge } from './parts.js'
import { useEstimate } from './useEstimate.js'

const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`
const windowText = (w: ScheduleWindow) =>
  `${hhmm(w.from)}–${hhmm(w.to)} ${w.timeZone}${w.days.length > 0 && w.days.length < 7 ? ` (${w.days.join(', ')})` : ''}`

/** One model: what went wrong first (if anything), its figures, its definition, and its live log. */
export function ModelDetail() {
  const { id = '' } = useParams()
  const model = useStore((s) => s.models[id])
  const status = useStore((s) => s.modelsStatus)
  const error = useStore((s) => s.modelsError)
  const gpuBytes = useStore((s) => selectModelGpuBytes(s, id))
  const admin = useStore(selectIsAdmin)
  const estimate = useEstimate(model, admin)
  const action = useAction()
  const [editing, setEditing] = useState(false)
  const navigate = useNavigate()
  const now = useNow(1000)

  if (model === undefined) {
    if (status === 'loading') return <Loading label="Loading the model…" />
    if (status === 'error')
      return <ErrorState title="Could not load the models" message={error ?? ''} onRetry={() => void loadModels()} />
    return (
      <Empty title="No such model">
        <Link to="/models">Back to the models</Link>
      </Empty>
    )
  }
  if (!isFullModel(model)) return <Empty title="Only admins see a model’s definition and log" />
  const { status: st } = model
  return (
    <section aria-labelledby="model-title" data-testid="model-detail" data-state={st.state}>
      <p className="crumbs">
        <Link to="/models">Models</Link> /
      </p>
      <div className="page-head">
        <h1 id="model-title">{model.name}</h1>
        <StateBadge state={st.state} />
        <LoadProgress model={model} />
        <span className="spacer" />
        <span className="page-actions">
          <ModelActions model={model} action={action} onDeleted={() => void navigate('/models')} />
          <button type="button" onClick={() => setEditing(!editing)} data-testid="edit">
            {editing ? 'Close the form' : 'Edit'}
          </button>
        </span>
      </div>
      {action.error && (
        <p className="form-error" role="alert" data-testid="action-error">
          {action.error}
        </p>
      )}
      {st.diagnosis !== null && <DiagnosisView diagnosis={st.diagnosis} />}
      {editing && <EditForm model={model} onDone={() => setEditing(false)} />}
      <dl className="facts panel">
        <div>
          <dt>Engine</dt>
          <dd>
            {model.engine} on {model.runtime}
          </dd>
        </div>
        <div>
          <dt>Replicas</dt>
          <dd>
            <Replicas model={model} />
          </dd>
        </div>
        <div>
          <dt>GPUs</dt>
          <dd>{model.gpus === 'all' ? 'all' : model.gpus === 'none' ? 'CPU only' : model.gpus.join(', ')}</dd>
        </div>
        <div>
          <dt>GPU memory</dt>
          <dd className="num">
            <GpuMemory used={gpuBytes} estimate={estimate} />
          </dd>
        </div>
        <div>
          <dt>Context</dt>
          <dd className="num">{st.contextLength === null ? '—' : `${formatCount(st.contextLength)} tokens`}</dd>
        </div>
        <div>
          <dt>Last used</dt>
          <dd>{formatAgo(st.lastUsedAt, now)}</dd>
        </div>
        <div>
          <dt>Stops when idle</dt>
          <dd>{model.pinned ? 'never (pinned)' : model.ttlMs > 0 ? `after ${formatDuration(model.ttlMs)}` : 'never'}</dd>
        </div>
        <div>
          <dt>Last start took</dt>
          <dd>{formatDuration(st.lastStartMs)}</dd>
        </div>
        <div>
          <dt>Queue</dt>
          <dd>
            {st.queued} waiting, up to {model.queue.size}
          </dd>
        </div>
        <div className="wide">
          <dt>Source</dt>
          <dd className="mono">{model.source ?? model.baseUrls.join(', ') ?? '—'}</dd>
        </div>
        {model.args.length > 0 && (
          <div className="wide">
            <dt>Engine flags</dt>
            <dd className="mono">{model.args.join(' ')}</dd>
          </div>
        )}
        {model.schedule !== undefined && (
          <div className="wide" data-testid="schedule">
            <dt>Available</dt>
            <dd>
              {model.schedule.map(windowText).join('; ')}
              {st.schedule && (
                <span className="muted">
                  {' '}
                  — {st.schedule.open ? 'open now' : 'closed now'}
                  {st.schedule.nextChangeAt !== null &&
                    `, ${st.schedule.open ? 'closes' : 'opens'} ${formatAgo(st.schedule.nextChangeAt, now)}`}
                  {model.preload ? '; starts when a window opens' : ''}
                </span>
              )}
            </dd>
          </div>
        )}
        <div className="wide">
          <dt>Defined in</dt>
          <dd>{model.origin === 'config' ? 'the config file (read-only here)' : 'the admin API (editable here)'}</dd>
        </div>
      </dl>
      <LogView id={model.id} />
    </section>
  )
}
