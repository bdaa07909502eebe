import { useStore } from '../../store/index.js'
import { LoadProgress } from '../models/parts.js'

/**
 * A model that is not running yet, while the playground waits on it: its start's progress (from the live model
 * state), instead of a send that seems to hang. Nothing while it runs.
 */
export function ModelStarting({ name, waiting }: { name: string; waiting: boolean }) {
  const model = useStore((s) => Object.values(s.models).find((m) => m.name === name))
  if (model === undefined) return null
  const { state } = model.status
  if (state === 'starting' || state === 'loading')
    return (
      <p className="notice small model-starting" role="status" data-testid="model-starting">
        {name} is {state === 'starting' ? 'starting' : 'loading'}: <LoadProgress model={model} />
      </p>
    )
  if (waiting && state === 'stopped')
    return (
      <p className="notice small model-starting" role="status" data-testid="model-starting">
        Starting {name}…
      </p>
    )
  return null
}
