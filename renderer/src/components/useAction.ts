import { useState } from 'react'

/** One button's request: busy while it runs, and the refusal's message (which says what to fix) when it fails. */
export function useAction() {
  const [busy, setBusy] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const run = async (name: string, fn: () => Promise<unknown>): Promise<boolean> => {
    setBusy(name)
    setError(null)
    try {
      await fn()
      return true
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err))
      return false
    } finally {
      setBusy(null)
    }
  }
  return { busy, error, run, clearError: () => setError(null) }
}
