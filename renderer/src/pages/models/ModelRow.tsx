import { Link } from 'react-router'
import type { AnyModelView } from '../../api.js'
import { useAction } from '../../components/useAction.js'
import { useNow } from '../../components/useNow.js'
import { useStore } from '../../store/index.js'
import { isFullModel, selectModelGpuBytes } from '../../store/selectors.js'
import { formatAgo, formatCount, formatDuration } from '../../units.js'
import { ModelActions } from './ModelActions.js'
import { GpuMemory, LoadProgress, Replicas, StateBadge } from './parts.js'
import { useEstimate } from './useEstimate.js'

/** Time left before an idle model stops: its ttl after the last request; null when it never idles out. */
function ttlLeft(model: AnyModelView, now: number): number | null {
  if (!isFullModel(model) || model.ttlMs <= 0 || model.pinned || model.status.state !== 'running') return null
  const from = model.status.lastUsedAt
  return from === null ? null : Math.max(0, from + model.ttlMs - now)
}

function gpusOf(model: AnyModelView): string {
  if (!isFullModel(model)) return ''
  if (model.gpus === 'all') return 'all'
  if (model.gpus === 'none') return 'CPU'
  return model.gpus.join(', ')
}

/** One model: its live state, figures with units, and (for admins) its actions, each with its own pending state. */
export function ModelRow({ model, admin }: { model: AnyModelView; admin: boolean }) {
  const now = useNow(1000)
  const gpuBytes = useStore((s) => selectModelGpuBytes(s, model.id))
  const estimate = useEstimate(model, admin)
  const action = useAction()
  const { error } = action
  const { state } = model.status
  const full = isFullModel(model)
  const left = ttlLeft(model, now)
  // A member's view carries no definition, and so no schedule.
  const schedule = full ? model.status.schedule : undefined
  return (
    <>
      <tr data-testid={`model-${model.name}`} data-state={state}>
        <td>
          {admin ? (
            <Link to={`/models/${encodeURIComponent(model.id)}`} className="model-name">
              {model.name}
            </Link>
          ) : (
            <span className="model-name">{model.name}</span>
          )}
          {model.aliases.length > 0 && <div className="muted small">also {model.aliases.join(', ')}</div>}
        </td>
        <td>
          <StateBadge state={state} />
          <LoadProgress model={model} />
          {schedule?.nextChangeAt != null && (
            <div className="muted small" data-testid="schedule-next">
              {schedule.open ? 'closes' : 'opens'} {formatAgo(schedule.nextChangeAt, now)}
            </div>
          )}
        </td>
        <td className="col-narrow-hidden">
          <Replicas model={model} />
        </td>
        <td className="muted engine col-narrow-hidden">
          {model.engine} · {model.runtime}
        </td>
        {/* A member's view carries no definition: no GPUs, and no attribution to show. */}
        {admin && (
          <>
            <td className="num col-narrow-hidden">{gpusOf(model)}</td>
            <td className="num">
              <GpuMemory used={gpuBytes} estimate={estimate} />
            </td>
          </>
        )}
        <td className="num">{model.status.contextLength === null ? '—' : formatCount(model.status.contextLength)}</td>
        <td className="num">
          {formatAgo(model.status.lastUsedAt, now)}
          {left !== null && <div className="muted small">stops in {formatDuration(left)}</div>}
          {full && model.pinned && <div className="small">pinned</div>}
        </td>
        {admin && (
          <td className="actions">
            <div className="row-actions">
              <ModelActions model={model} action={action} />
            </div>
          </td>
        )}
      </tr>
      {error !== null && (
        <tr className="row-error">
          <td colSpan={admin ? 9 : 6}>
            <p className="form-error" role="alert" data-testid="action-error">
              {error}
            </p>
          </td>
        </tr>
      )}
    </>
  )
}
