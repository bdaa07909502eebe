import { useEffect, useState } from 'react'
import * as api from '../../api.js'
import { useStore } from '../../store/index.js'

/**
 * A model's context length: the store's, else read from the admin API while the model runs. The live state events
 * carry no context length, and the engine's is read only after it is running, so it is read again at each `after`.
 */
export function useContextLength(name: string | null, after: unknown): number | null {
  const model = useStore((s) => (name === null ? undefined : Object.values(s.models).find((m) => m.name === name)))
  const known = model?.status.contextLength ?? null
  const id = model?.id
  const running = model?.status.state === 'running'
  const [read, setRead] = useState<number | null>(null)
  useEffect(() => {
    if (known !== null || id === undefined || !running) return
    let current = true
    api.getModel(id).then(
      (m) => current && setRead(m.status.contextLength),
      // Not known, as before: the bar and the warning wait for the next read.
      () => current && setRead(null),
    )
    return () => {
      current = false
    }
  }, [id, known, running, after])
  return known ?? (running ? read : null)
}
