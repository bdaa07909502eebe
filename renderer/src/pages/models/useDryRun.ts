import { useEffect, useState } from 'react'
import type { DryRunView, ModelCreateBody } from '../../../../gateway/contract/index.js'
import * as api from '../../api.js'

export interface DryRunState {
  view: DryRunView | null
  error: string | null
  busy: boolean
}

/** What starting `body` would do, asked again a moment after the last change to it; none while `body` is null. */
export function useDryRun(body: ModelCreateBody | null): DryRunState {
  // The body's content, not its identity: forms build a new object on every render.
  const key = body === null ? null : JSON.stringify(body)
  const [state, setState] = useState<DryRunState>({ view: null, error: null, busy: false })
  useEffect(() => {
    if (key === null) return
    let live = true
    setState((d) => ({ ...d, busy: true }))
    const timer = setTimeout(() => {
      api.dryRunDefinition(JSON.parse(key) as ModelCreateBody).then(
        (view) => live && setState({ view, error: null, busy: false }),
        (err: unknown) => live && setState({ view: null, error: err instanceof Error ? err.message : String(err), busy: false }),
      )
    }, 350)
    return () => {
      live = false
      clearTimeout(timer)
    }
  }, [key])
  return state
}
