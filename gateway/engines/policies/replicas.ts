import type { EngineState } from '../../contract/index.js'

export interface ReplicaView {
  index: number
  state: EngineState
  inFlight: number
  /** undefined = no gateway cap. */
  maxConcurrent?: number
}

export interface ReplicaPick {
  index: number
  /** Pass back as `cursor` on the next pick. */
  nextCursor: number
}

/** Round-robin over `running` replicas with a free slot, starting at `cursor` (a position in `replicas`). */
export function pickReplica(replicas: readonly ReplicaView[], cursor: number): ReplicaPick | null {
  const n = replicas.length
  if (n === 0) return null
  const start = ((cursor % n) + n) % n
  for (let step = 0; step < n; step++) {
    const pos = (start + step) % n
    const r = replicas[pos]!
    if (r.state !== 'running') continue
    if (r.maxConcurrent !== undefined && r.inFlight >= r.maxConcurrent) continue
    return { index: r.index, nextCursor: (pos + 1) % n }
  }
  return null
}
