import type { Logger } from 'pino'
import type { EngineState, ModelDefinition } from '../contract/index.js'
import { gib, type ModelNeed } from '../models/need.js'
import { planPlacement, type PlacementPlan, type Resident, type Shortfall } from './policies/eviction.js'
import type { GpuSample } from '../system/nvidia-smi.js'
import { StartFailure } from './driver.js'

export interface PlacementPreview {
  gpus: GpuSample[]
  /** Null without GPUs. */
  need: ModelNeed | null
  /** Null when the model takes no GPU memory here. */
  plan: PlacementPlan | null
}

/** What placement needs to know of a model the manager runs. */
export interface ResidentState {
  def: ModelDefinition
  state: EngineState
  busy: boolean
  lastUsedAt: number | null
}

export interface PlacementOptions {
  readGpus(): Promise<GpuSample[]>
  need(def: ModelDefinition, gpus: readonly GpuSample[]): Promise<ModelNeed>
  residents(): ResidentState[]
  /** Stops an idle model to make room; resolves once its engines are gone. */
  evict(id: string): Promise<void>
  logger: Logger
}

/**
 * Admission of replica starts against GPU memory (ARCHITECTURE: "evicts least-recently-used idle unpinned models";
 * starting models count as reserved). Starts are admitted one at a time, so two cold starts never both count the
 * same free memory. No GPUs (no nvidia-smi) means nothing to place.
 */
export class PlacementGate {
  /** Estimated bytes per GPU of each admitted replica, by model id then replica, until the model stops or fails. A
   *  replica that starts again replaces its own entry, so restarts never count twice. */
  private readonly held = new Map<string, Map<number, ReadonlyMap<number, number>>>()
  /** Models whose running engines were found at start-up, with the replicas already taken over: their memory is in
   *  use already, so it is recorded but neither checked nor made room for. */
  private readonly adopting = new Map<string, Set<number>>()
  private queue: Promise<unknown> = Promise.resolve()

  constructor(private readonly o: PlacementOptions) {}

  skipOnce(ids: readonly string[]): void {
    for (const id of ids) this.adopting.set(id, new Set())
  }

  /** The model stopped or failed: what it held is free again. */
  release(id: string): void {
    this.held.delete(id)
  }

  /** Resolves when the replica may start (after evicting what had to go); throws StartFailure when it cannot fit. */
  admit(def: ModelDefinition, replica: number): Promise<void> {
    const run = this.queue.then(() => this.place(def, replica))
    this.queue = run.catch(() => undefined)
    return run
  }

  /** What a start would do now, doing none of it: the GPUs, the model's need, and the placement plan. */
  async preview(def: ModelDefinition): Promise<PlacementPreview> {
    const gpus = await this.o.readGpus()
    if (gpus.length === 0) return { gpus, need: null, plan: null }
    const need = await this.o.need(def, gpus)
    if (need.perGpu.size === 0) return { gpus, need, plan: null }
    const others = this.o.residents().filter((r) => r.def.id !== def.id)
    const plan = planPlacement(
      need.perGpu,
      gpus.map((g) => ({ index: g.index, freeBytes: g.memoryFreeBytes ?? 0 })),
      others.flatMap((r) => this.resident(r)),
    )
    return { gpus, need, plan }
  }

  private async place(def: ModelDefinition, replica: number): Promise<void> {
    const adopted = this.takeAdoption(def, replica)
    let preview: PlacementPreview
    try {
      preview = await this.preview(def)
    } catch (err) {
      this.o.logger.warn({ err, model: def.name }, 'could not check GPU memory: starting without a placement check')
      return
    }
    const { need, plan } = preview
    if (!need || !plan) return
    if (!adopted) {
      if (!plan.fits) throw new StartFailure(insufficient(plan.shortfalls))
      for (const victim of plan.evict) {
        this.o.logger.info({ model: victim.name, for: def.name }, 'stopping an idle model to free GPU memory')
        await this.o.evict(victim.id)
      }
    }
    const replicas = this.held.get(def.id) ?? new Map<number, ReadonlyMap<number, number>>()
    this.held.set(def.id, replicas.set(replica, need.perGpu))
  }

  /** Whether this replica start takes over an engine found running at start-up (once per replica). */
  private takeAdoption(def: ModelDefinition, replica: number): boolean {
    const taken = this.adopting.get(def.id)
    if (!taken || taken.has(replica)) return false
    taken.add(replica)
    if (taken.size >= def.replicas) this.adopting.delete(def.id)
    return true
  }

  private resident(r: ResidentState): Resident[] {
    const replicas = this.held.get(r.def.id)
    if (!replicas || r.state === 'stopped' || r.state === 'failed') return []
    const bytes = new Map<number, number>()
    for (const perGpu of replicas.values()) for (const [gpu, b] of perGpu) bytes.set(gpu, (bytes.get(gpu) ?? 0) + b)
    return [
      {
        id: r.def.id,
        name: r.def.name,
        bytes,
        starting: r.state === 'starting' || r.state === 'loading',
        busy: r.busy || r.state === 'stopping',
        pinned: r.def.pinned,
        lastUsedAt: r.lastUsedAt,
      },
    ]
  }
}

/** Read after `model "X" failed to start: `, which already names the model. */
function insufficient(shortfalls: Shortfall[]) {
  const parts = shortfalls.map((s) => {
    const held = s.heldBy.map((h) => `${h.name} (${gib(h.bytes)} GiB, ${h.why})`).join(', ')
    return (
      `needs about ${gib(s.needBytes)} GiB on GPU ${s.gpu} but ${gib(Math.max(0, s.freeBytes))} GiB would be free ` +
      `even after stopping every idle model${held ? `; held by ${held}` : ''}, the rest by other processes`
    )
  })
  return {
    cause: 'insufficient_vram',
    message:
      `not enough GPU memory: it ${parts.join('; it ')}. Stop or unpin a model, lower the context (-c) or ` +
      'parallel slots (-np), keep some layers on the CPU (-ngl), or give it another GPU.',
    exitCode: null,
    logTail: [],
  }
}
