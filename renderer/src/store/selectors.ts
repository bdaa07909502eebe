import type { ModelView } from '../../../gateway/contract/index.js'
import type { AnyModelView } from '../api.js'
import type { State } from './slices.js'

/** Admins manage everything; members see names and states, and their own keys and usage. */
export const selectIsAdmin = (s: State): boolean => s.session.status === 'signed-in' && s.session.user.role === 'admin'

/** A whole definition (an admin's view) rather than a member's names and states. */
export const isFullModel = (m: AnyModelView): m is ModelView => 'origin' in m

/** Model names in a stable order, for lists and pickers. */
export const selectModelIds = (s: State): string[] =>
  Object.values(s.models)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((m) => m.id)

/**
 * GPU memory the model's engines hold now, from the latest reading's process attribution; null when nothing is known
 * (no reading yet, or nvidia-smi could not list processes).
 */
export function selectModelGpuBytes(s: State, id: string): number | null {
  const latest = s.samples.at(-1)
  if (!latest) return null
  let known = false
  let total = 0
  for (const gpu of latest.gpus) {
    if (gpu.processes === null) continue
    known = true
    for (const p of gpu.processes) if (p.model?.id === id && p.usedBytes !== null) total += p.usedBytes
  }
  return known ? total : null
}
