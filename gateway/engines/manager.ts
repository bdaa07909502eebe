import { isDeepStrictEqual } from 'node:util'
import type { Logger } from 'pino'
import { CortexError, type ModelDefinition, type ModelStatus, type Runtime, type StateReason } from '../contract/index.js'
import type { PidRepo } from '../store/types.js'
import { diagnoseUnsupported } from './diagnose.js'
import { StartFailure, type Driver } from './driver.js'
import { ModelEngine, type EngineEvent } from './model.js'
import { createProcessDriver } from './process/driver.js'
import { reapLeftovers } from './process/reap.js'
import { PlacementGate, type PlacementOptions, type PlacementPreview } from './placement.js'
import { createRemoteDriver } from './remote/driver.js'
import type { Lease, ModelRegistry } from './types.js'

export type { EngineEvent } from './model.js'

export type DriverFactory = (def: ModelDefinition) => Driver

export interface EngineManagerOptions {
  models: ModelDefinition[]
  pids: PidRepo
  logger: Logger
  /** `engines.llamaServer` or CORTEX_LLAMA_SERVER; null = `llama-server` on PATH. */
  llamaServer: string | null
  /** false: containers keep running at close and are adopted at the next start; process engines always stop. */
  stopOnExit: boolean
  /** How long a request waits for a cold start before 503 `model_loading` (default 120 s). */
  coldStartWaitMs?: number
  now?: () => number
  /** Health poll interval while starting (default 200 ms). */
  pollMs?: number
  /** SIGTERM → SIGKILL grace (default 5 s). */
  stopGraceMs?: number
  /** Per-runtime driver override: the Docker driver plugs in here; tests pass fakes. */
  drivers?: Partial<Record<Runtime, DriverFactory>>
  /** GPU memory admission and eviction; unset = starts are never checked against GPU memory. */
  placement?: Pick<PlacementOptions, 'readGpus' | 'need'>
}

export interface EngineManager extends ModelRegistry {
  /** Explicit start: forgives earlier failures; resolves when a replica is running, rejects `model_start_failed`. */
  start(nameOrAlias: string): Promise<void>
  stop(nameOrAlias: string, reason?: StateReason): Promise<void>
  /** Applies a new set of definitions: added models appear stopped, removed ones stop, changed ones stop and
   *  restart fresh (their failure count forgotten); a change of only `pinned`, `ttl` or `swapGroup` applies in place. */
  update(models: ModelDefinition[]): Promise<void>
  /** Starts models whose engines are already running (found at start-up, e.g. this instance's containers) so their
   *  drivers adopt them; failures are logged, as for any start. */
  adopt(ids: string[]): void
  /** Ends engine processes a killed Cortex left behind (run once at start-up, before serving). */
  reapLeftovers(): Promise<void>
  /** Stops every process engine and rejects pending callers. */
  close(): Promise<void>
  /** The model's recent engine output (all replicas). */
  logs(nameOrAlias: string): string[]
  /** What starting the model would do to GPU memory now (nothing is started or stopped); null without placement. */
  placementPreview(nameOrAlias: string): Promise<PlacementPreview | null>
  /** The same for a definition that is not saved (the console's form, before "create"). */
  previewDefinition(def: ModelDefinition): Promise<PlacementPreview | null>
  /** Every new line of the model's engine output; returns the unsubscribe function. */
  followLogs(nameOrAlias: string, fn: (line: string) => void): () => void
  /** State changes; returns the unsubscribe function. */
  subscribe(fn: (e: EngineEvent) => void): () => void
}

const unsupported: DriverFactory = (def) => ({
  runningCheckMs: null,
  probe: async () => ({ status: 'down', reason: 'unsupported' }),
  start: async () => {
    throw new StartFailure(diagnoseUnsupported(def))
  },
})

export function createEngineManager(opts: EngineManagerOptions): EngineManager {
  const { logger, pids } = opts
  const now = opts.now ?? Date.now
  const listeners = new Set<(e: EngineEvent) => void>()
  const engines = new Map<string, ModelEngine>()
  let byName = new Map<string, ModelEngine>()
  let closed = false

  const gate =
    opts.placement &&
    new PlacementGate({
      ...opts.placement,
      logger,
      residents: () =>
        [...engines.values()].map((e) => ({
          def: e.def,
          state: e.status().state,
          busy: e.busy(),
          lastUsedAt: e.status().lastUsedAt,
        })),
      evict: async (id) => engines.get(id)?.stop({ reason: 'evicted' }),
    })

  /** Each replica start passes the placement gate first (which may stop idle models to make room). */
  const gated = (def: ModelDefinition, d: Driver): Driver =>
    gate
      ? {
          runningCheckMs: d.runningCheckMs,
          unreachableAfter: d.unreachableAfter,
          probe: (url, signal) => d.probe(url, signal),
          contextLength: d.contextLength && ((url, signal) => d.contextLength!(url, signal)),
          start: async (ctx) => {
            await gate.admit(def, ctx.replica)
            return d.start(ctx)
          },
        }
      : d

  const driverFor = (def: ModelDefinition): Driver => gated(def, baseDriver(def))
  const baseDriver = (def: ModelDefinition): Driver => {
    const custom = opts.drivers?.[def.runtime]
    if (custom) return custom(def)
    if (def.runtime === 'process' && def.engine !== 'openai') {
      return createProcessDriver({ def, pids, logger, llamaServer: opts.llamaServer })
    }
    if (def.runtime === 'remote') return createRemoteDriver({ def })
    return unsupported(def)
  }

  const emit = (e: EngineEvent) => {
    if (e.state === 'stopped' || e.state === 'failed') gate?.release(e.id)
    for (const fn of listeners) {
      try {
        fn(e)
      } catch (err) {
        logger.error({ err }, 'engine event listener failed')
      }
    }
  }

  const create = (def: ModelDefinition) =>
    new ModelEngine({
      def,
      driver: driverFor(def),
      logger: logger.child({ model: def.name }),
      now,
      coldStartWaitMs: opts.coldStartWaitMs ?? 120_000,
      pollMs: opts.pollMs ?? 200,
      stopGraceMs: opts.stopGraceMs ?? 5000,
      onEvent: emit,
    })

  const reindex = () => {
    const next = new Map<string, ModelEngine>()
    for (const e of engines.values()) for (const n of [e.def.name, ...e.def.aliases]) next.set(n, e)
    byName = next
  }

  const get = (nameOrAlias: string): ModelEngine => {
    const e = byName.get(nameOrAlias)
    if (!e) throw new CortexError('model_not_found', `model "${nameOrAlias}" does not exist`)
    return e
  }

  for (const def of opts.models) engines.set(def.id, create(def))
  reindex()

  /** Engines left out of `engines` by an update while they stop: close() waits for them too. */
  const retiring = new Set<ModelEngine>()
  const retire = async (e: ModelEngine) => {
    retiring.add(e)
    try {
      await e.close()
    } finally {
      retiring.delete(e)
    }
  }

  return {
    resolve: (nameOrAlias) => byName.get(nameOrAlias)?.def,
    statuses: (): ModelStatus[] => [...engines.values()].map((e) => e.status()),
    contextLength: (name) => byName.get(name)?.status().contextLength ?? null,
    acquire: async (model: string, signal: AbortSignal, affinity?: string): Promise<Lease> => {
      if (closed) throw new CortexError('model_loading', 'Cortex is shutting down', { retryAfterSeconds: 5 })
      return get(model).acquire(signal, undefined, affinity)
    },
    start: async (name) => get(name).start(),
    stop: async (name, reason) => get(name).stop(reason === undefined ? {} : { reason }),
    logs: (name) => get(name).logs(),
    followLogs: (name, fn) => get(name).followLogs(fn),
    placementPreview: async (name) => (gate ? gate.preview(get(name).def) : null),
    previewDefinition: async (def) => (gate ? gate.preview(def) : null),
    adopt(ids) {
      gate?.skipOnce(ids)
      for (const id of ids) {
        const e = engines.get(id)
        if (!e) continue
        logger.info({ model: e.def.name }, 'adopting running engine')
        e.start().catch((err: unknown) => logger.warn({ err, model: e.def.name }, 'could not adopt the running engine'))
      }
    },
    subscribe(fn) {
      listeners.add(fn)
      return () => listeners.delete(fn)
    },
    reapLeftovers: () => reapLeftovers(pids, logger, opts.stopGraceMs),
    async update(models) {
      const next = new Map(models.map((d) => [d.id, d]))
      const retired: ModelEngine[] = []
      for (const [id, e] of engines) {
        const def = next.get(id)
        if (def && isDeepStrictEqual(def, e.def)) continue
        if (def && isDeepStrictEqual(engineFacing(def), engineFacing(e.def))) {
          e.retune(def)
          continue
        }
        retired.push(e)
        engines.delete(id)
      }
      for (const def of models) if (!engines.has(def.id)) engines.set(def.id, create(def))
      reindex()
      await Promise.all(retired.map((e) => retire(e)))
    },
    async close() {
      closed = true
      await Promise.all([
        ...[...engines.values()].map((e) => e.close({ detach: !opts.stopOnExit })),
        ...[...retiring].map((e) => e.close()),
      ])
    },
  }
}

/** What a running engine depends on: everything but the gateway-side pinning, ttl, swap group and schedule. */
function engineFacing(def: ModelDefinition) {
  const { pinned: _p, ttlMs: _t, swapGroup: _g, schedule: _s, preload: _l, drainTimeoutMs: _d, ...rest } = def
  return rest
}
