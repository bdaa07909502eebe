import type { AnyModelView } from '../../api.js'
import { ConfirmButton } from '../../components/Confirm.js'
import type { useAction } from '../../components/useAction.js'
import { isFullModel } from '../../store/selectors.js'
import { deleteModel, pinModel, startModel, stopModel } from './actions.js'

const ACTIVE = new Set(['starting', 'loading', 'running'])

/** Start or stop, pin, delete: each button shows its own pending state; the caller shows the action's error. */
export function ModelActions({
  model,
  action,
  onDeleted,
}: {
  model: AnyModelView
  action: ReturnType<typeof useAction>
  onDeleted?: () => void
}) {
  const { busy, run } = action
  const { state } = model.status
  const editable = isFullModel(model) && model.origin === 'api'
  return (
    <>
      {ACTIVE.has(state) ? (
        <button
          type="button"
          disabled={busy !== null}
          onClick={() => void run('stop', () => stopModel(model.id))}
          data-testid="stop"
        >
          {busy === 'stop' ? 'Stopping…' : 'Stop'}
        </button>
      ) : (
        <button
          type="button"
          className="primary"
          disabled={busy !== null || state === 'stopping'}
          onClick={() => void run('start', () => startModel(model.id))}
          data-testid="start"
        >
          {busy === 'start' ? 'Starting…' : 'Start'}
        </button>
      )}
      {editable && (
        <>
          <button
            type="button"
            disabled={busy !== null}
            onClick={() => void run('pin', () => pinModel(model.id, !model.pinned))}
            data-testid="pin"
          >
            {busy === 'pin' ? (model.pinned ? 'Unpinning…' : 'Pinning…') : model.pinned ? 'Unpin' : 'Pin'}
          </button>
          <ConfirmButton
            label={busy === 'delete' ? 'Deleting…' : 'Delete'}
            question={`Delete ${model.name}? Its engines stop; its usage stays.`}
            confirmLabel="Delete"
            disabled={busy !== null}
            onConfirm={() =>
              void run('delete', async () => {
                await deleteModel(model.id)
                onDeleted?.()
              })
            }
            testId="delete"
          />
        </>
      )}
    </>
  )
}
