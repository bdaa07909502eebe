import type { EngineState, ModelDefinition } from '../../contract/index.js'

/** A model as the switching rule sees it. */
export interface SwitchCandidate extends Pick<ModelDefinition, 'id' | 'name' | 'pinned' | 'gpus' | 'swapGroup'> {
  state: EngineState
}

export interface SwitchPlan {
  /** Ids of the models to stop before the target starts. */
  stop: string[]
  /** Models that would have been stopped but are pinned: they keep running. */
  keptPinned: string[]
}

const ACTIVE: ReadonlySet<EngineState> = new Set(['starting', 'loading', 'running'])

/**
 * Which models a switch to `target` stops. With a `swapGroup` on the target, the active models of that group; else
 * those that share a GPU with it: overlapping GPU lists, where `gpus: all` shares with every model, and on a machine
 * without GPUs every model shares (CPU and memory). Pinned models never stop. Pure.
 */
export function switchPlan(target: SwitchCandidate, others: SwitchCandidate[], machineHasGpus: boolean): SwitchPlan {
  const plan: SwitchPlan = { stop: [], keptPinned: [] }
  for (const m of others) {
    if (m.id === target.id || !ACTIVE.has(m.state)) continue
    const affected =
      target.swapGroup !== undefined ? m.swapGroup === target.swapGroup : !machineHasGpus || sharesGpu(target.gpus, m.gpus)
    if (!affected) continue
    if (m.pinned) plan.keptPinned.push(m.name)
    else plan.stop.push(m.id)
  }
  return plan
}

function sharesGpu(a: ModelDefinition['gpus'], b: ModelDefinition['gpus']): boolean {
  // CPU-only models share the CPU with each other, and no GPU with anyone.
  if (a === 'none' || b === 'none') return a === b
  if (a === 'all' || b === 'all') return true
  const set = new Set(a.map(String))
  return b.some((g) => set.has(String(g)))
}
