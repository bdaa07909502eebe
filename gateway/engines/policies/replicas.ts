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

/** A replica a request would rather have (it holds the conversation's prompt in its KV cache), and its slot count. */
export interface Preference {
  index: number
  /** Requests the engine serves at once (`-np`), when known; with neither this nor a cap, any load counts as free. */
  slots: number | null
}

const hasRoom = (r: ReplicaView) => r.state === 'running' && (r.maxConcurrent === undefined || r.inFlight < r.maxConcurrent)

/**
 * The replica for a request: the preferred one while it has a free slot, else the running replica with the fewest
 * requests in flight (ties taken round-robin from `cursor`, a position in `replicas`) among those under their cap.
 */
export function pickReplica(replicas: readonly ReplicaView[], cursor: number, prefer?: Preference): ReplicaPick | null {
  const n = replicas.length
  if (n === 0) return null
  const start = ((cursor % n) + n) % n
  if (prefer !== undefined) {
    const pos = replicas.findIndex((r) => r.index === prefer.index)
    const r = replicas[pos]
    if (r !== undefined && hasRoom(r) && (prefer.slots === null || r.inFlight < prefer.slots)) {
      return { index: r.index, nextCursor: start }
    }
  }
  let best = -1
  for (let step = 0; step < n; step++) {
    const pos = (start + step) % n
    const r = replicas[pos]!
    if (hasRoom(r) && (best === -1 || r.inFlight < replicas[best]!.inFlight)) best = pos
  }
  return best === -1 ? null : { index: replicas[best]!.index, nextCursor: (best + 1) % n }
}
