/** One GPU as placement sees it: what nvidia-smi reports free right now. */
export interface GpuRoom {
  index: number
  freeBytes: number
}

/** A model that holds (or is about to hold) GPU memory. */
export interface Resident {
  id: string
  name: string
  /** Estimated bytes per GPU index. */
  bytes: ReadonlyMap<number, number>
  /** Starting or loading: its memory may not show in nvidia-smi yet, so it is reserved on top. */
  starting: boolean
  /** Serving or queueing requests right now. */
  busy: boolean
  pinned: boolean
  lastUsedAt: number | null
}

export interface Shortfall {
  gpu: number
  needBytes: number
  /** Free after reservations and every possible eviction. */
  freeBytes: number
  /** Models that hold memory on this GPU and could not be evicted, with why. */
  heldBy: Array<{ name: string; bytes: number; why: 'pinned' | 'busy' | 'starting' }>
}

export type PlacementPlan = { fits: true; evict: Resident[] } | { fits: false; shortfalls: Shortfall[]; evictable: Resident[] }

/**
 * Whether `need` (bytes per GPU index) fits, and which models to stop first. Free memory is nvidia-smi's free minus
 * the estimates of models still starting. Evictable are running models that are idle and unpinned, least recently
 * used first; a model is evicted only if it holds memory on a GPU that is short, and only as many as it takes.
 */
export function planPlacement(
  need: ReadonlyMap<number, number>,
  gpus: readonly GpuRoom[],
  residents: readonly Resident[],
): PlacementPlan {
  const free = new Map(gpus.map((g) => [g.index, g.freeBytes]))
  for (const r of residents) if (r.starting) for (const [gpu, bytes] of r.bytes) free.set(gpu, (free.get(gpu) ?? 0) - bytes)

  const short = () => [...need].filter(([gpu, bytes]) => (free.get(gpu) ?? 0) < bytes).map(([gpu]) => gpu)
  const evictable = residents
    .filter((r) => !r.starting && !r.busy && !r.pinned)
    .sort((a, b) => (a.lastUsedAt ?? 0) - (b.lastUsedAt ?? 0))
  const evict: Resident[] = []
  for (const r of evictable) {
    const gaps = short()
    if (gaps.length === 0) break
    if (!gaps.some((gpu) => (r.bytes.get(gpu) ?? 0) > 0)) continue
    evict.push(r)
    for (const [gpu, bytes] of r.bytes) free.set(gpu, (free.get(gpu) ?? 0) + bytes)
  }
  const gaps = short()
  if (gaps.length === 0) return { fits: true, evict }
  return {
    fits: false,
    evictable: evict,
    shortfalls: gaps.map((gpu) => ({
      gpu,
      needBytes: need.get(gpu)!,
      freeBytes: free.get(gpu) ?? 0,
      heldBy: residents
        .filter((r) => !evict.includes(r) && (r.bytes.get(gpu) ?? 0) > 0)
        .map((r) => ({ name: r.name, bytes: r.bytes.get(gpu)!, why: r.starting ? 'starting' : r.pinned ? 'pinned' : 'busy' })),
    })),
  }
}
