import { useEffect, useState } from 'react'
import type { DryRunView } from '../../../../gateway/contract/index.js'
import * as api from '../../api.js'
import type { AnyModelView } from '../../api.js'
import { isFullModel } from '../../store/selectors.js'

export interface Estimate {
  /** GPU memory a start would need, over all its GPUs; null when nothing is estimated (no GPU, a remote model). */
  bytes: number | null
  error: string | null
}

/** The dry-run's need: per GPU where it placed the model, else the engine's whole estimate. */
export function neededBytes(view: DryRunView): number | null {
  if (view.gpus.length > 0) return view.gpus.reduce((sum, g) => sum + g.needBytes, 0)
  const total = (view.estimate as { totalBytes?: unknown } | null)?.totalBytes
  return typeof total === 'number' ? total : null
}

/**
 * What a start of the saved model would need in GPU memory, from its dry-run (which starts nothing). Asked again only
 * when a field that changes the estimate changes, not on every state event; members get none (the route is admins').
 */
export function useEstimate(model: AnyModelView | undefined, enabled: boolean): Estimate {
  const key =
    enabled && model !== undefined && isFullModel(model) && model.runtime !== 'remote'
      ? JSON.stringify([model.id, model.engine, model.runtime, model.source, model.args, model.gpus, model.replicas])
      : null
  const [state, setState] = useState<Estimate & { key: string | null }>({ key: null, bytes: null, error: null })
  useEffect(() => {
    if (key === null) return
    let live = true
    const id = (JSON.parse(key) as string[])[0]!
    api.dryRunModel(id).then(
      (view) => live && setState({ key, bytes: neededBytes(view), error: null }),
      (err: unknown) => live && setState({ key, bytes: null, error: err instanceof Error ? err.message : String(err) }),
    )
    return () => {
      live = false
    }
  }, [key])
  return state.key === key ? { bytes: state.bytes, error: state.error } : { bytes: null, error: null }
}
