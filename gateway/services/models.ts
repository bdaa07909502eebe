import type { Logger } from 'pino'
import {
  CortexError,
  quoted,
  type AdminEvent,
  type DockerStatus,
  type ModelDefinition,
  type ModelStatus,
  type DryRunView,
  type ModelCreateBody,
  type ModelPatchBody,
  type ModelView,
  type SwitchView,
} from '../contract/index.js'
import type { EngineManager } from '../engines/manager.js'
import type { ModelRepo } from '../store/types.js'
import { apiModelSpec, patched } from '../models/definitions.js'
import { switchPlan, type SwitchCandidate } from '../engines/policies/switch.js'
import { dryRun, type DryRunDeps } from './dry-run.js'

/**
 * What the admin API needs to manage models. Every method that names a model takes its opaque `id` and throws
 * CortexError `not_found` for an unknown one; edits of a model declared in the config file throw
 * `model_managed_by_config` (409); a body that breaks a rule throws `invalid_request` with `param` at the field.
 */
export interface ModelService {
  list(): ModelView[]
  get(id: string): ModelView
  create(body: ModelCreateBody): Promise<ModelView>
  update(id: string, patch: ModelPatchBody): Promise<ModelView>
  /** Stops the model's engines, then forgets it (its usage rows stay). */
  remove(id: string): Promise<void>
  /** Explicit start (forgives earlier failures). `wait`: resolve once running, reject `model_start_failed`;
   *  else resolve at once with the model `starting`. */
  start(id: string, opts: { wait: boolean }): Promise<ModelView>
  stop(id: string): Promise<ModelView>
  /** One operation for the tray and the console: stops the running models the target would share GPUs with (or its
   *  swap group's), except pinned ones, then starts the target (answering at once, `starting`). Switches run one at a
   *  time. */
  switch(id: string): Promise<SwitchView>
  setPinned(id: string, pinned: boolean): Promise<ModelView>
  /** What a start would do (plan, estimate, evictions, warnings), starting nothing. */
  dryRun(id: string): Promise<DryRunView>
  /** The same for a definition not saved yet: validated as a create would be (a 400 names the field), saving nothing. */
  dryRunDraft(body: ModelCreateBody): Promise<DryRunView>
  /** The last lines of the engines' output (all replicas). */
  logs(id: string): string[]
  /** Every new line from now on; returns the unsubscribe function. */
  followLogs(id: string, onLine: (line: string) => void): () => void
  /** State changes, model edits, Docker status; returns the unsubscribe function. A snapshot is `snapshot()`. */
  subscribe(fn: (e: AdminEvent) => void): () => void
  snapshot(): Extract<AdminEvent, { type: 'snapshot' }>
}

export interface ModelServiceOptions {
  repo: ModelRepo
  engines: EngineManager
  logger: Logger
  env: NodeJS.ProcessEnv
  /** Whether this machine has NVIDIA GPUs: without, every model shares the CPU and memory when switching. */
  machineHasGpus: boolean
  /** How dry-runs describe a container and find llama-server. */
  dryRun: Pick<DryRunDeps, 'llamaServer' | 'containerPlan'>
  /** The routes by name or alias: a model may not take a route's name (one namespace); none without it. */
  routes?: () => { resolve(nameOrAlias: string): { name: string } | undefined }
  /** The Docker daemon's availability and image pulls, where a Docker runtime exists. */
  docker: {
    status(): DockerStatus
    onStatus(fn: (s: DockerStatus) => void): () => void
    onPullProgress(fn: (p: Omit<Extract<AdminEvent, { type: 'image_pull' }>, 'type'>) => void): () => void
  } | null
}

/** The id a draft's dry-run shows: it has none until it is created. */
const DRAFT_ID = 'draft'

const NO_DOCKER: DockerStatus = { available: false, message: 'Docker is not configured in this Cortex' }

/** The admin API's models: the store is the source of truth for definitions, the engine manager for their state. */
export function createModelService(o: ModelServiceOptions): ModelService {
  const { repo, engines } = o
  const listeners = new Set<(e: AdminEvent) => void>()
  let defs = repo.list()

  const emit = (e: AdminEvent) => {
    for (const fn of listeners) {
      try {
        fn(e)
      } catch (err) {
        o.logger.error({ err }, 'admin event listener failed')
      }
    }
  }
  engines.subscribe((e) =>
    emit({
      type: 'model_state',
      id: e.id,
      name: e.model,
      state: e.state,
      reason: e.reason,
      replica: e.replica,
      diagnosis: e.diagnosis,
      contextLength: e.contextLength,
    }),
  )
  o.docker?.onStatus((docker) => emit({ type: 'docker', docker }))
  o.docker?.onPullProgress((p) => emit({ type: 'image_pull', ...p }))

  const find = (id: string): ModelDefinition => {
    const def = defs.find((d) => d.id === id)
    if (!def) throw new CortexError('not_found', `no model has id ${quoted(id)} (GET /admin/api/models lists them)`)
    return def
  }
  const editable = (id: string): ModelDefinition => {
    const def = find(id)
    if (def.origin === 'config') {
      throw new CortexError(
        'model_managed_by_config',
        `model "${def.name}" is declared in the config file: change it there and restart Cortex`,
      )
    }
    return def
  }
  const view = (def: ModelDefinition, statuses: ModelStatus[] = engines.statuses()): ModelView => {
    const { apiKey, ...rest } = def
    const status = statuses.find((s) => s.id === def.id)
    if (!status) throw new Error(`model ${def.id} has no engine`)
    return { ...rest, hasApiKey: apiKey !== undefined, status }
  }
  /** Applies the store's definitions to the engines (stopping removed and changed models) and announces `id`. */
  const sync = async (id: string): Promise<ModelView> => {
    defs = repo.list()
    await engines.update(defs)
    const v = view(find(id))
    emit({ type: 'model_updated', model: v })
    return v
  }
  /** 409 name_taken when the model would take a route's name or alias: a request for it would reach the model. */
  const notARoute = (spec: { name: string; aliases: string[] }) => {
    for (const [i, name] of [spec.name, ...spec.aliases].entries()) {
      const route = o.routes?.().resolve(name)
      if (route === undefined) continue
      throw new CortexError(
        'name_taken',
        `"${name}" is already a name or alias of route "${route.name}"; models and routes share one namespace`,
        {
          param: i === 0 ? 'name' : `aliases[${i - 1}]`,
        },
      )
    }
  }
  const storing = <T>(name: string, write: () => T): T => {
    try {
      return write()
    } catch (err) {
      if (err instanceof Error && /UNIQUE/.test(err.message)) {
        throw new CortexError('invalid_request', `a model named ${quoted(name)} already exists`, { param: 'name' })
      }
      throw err
    }
  }

  const candidate = (def: ModelDefinition, statuses: ModelStatus[]): SwitchCandidate => ({
    ...def,
    state: statuses.find((s) => s.id === def.id)?.state ?? 'stopped',
  })
  let switching: Promise<unknown> = Promise.resolve()

  const service: ModelService = {
    list: () => {
      const statuses = engines.statuses()
      return defs.map((d) => view(d, statuses))
    },
    get: (id) => view(find(id)),
    async create(body) {
      const spec = apiModelSpec(body, defs, o.env)
      notARoute(spec)
      const def = storing(spec.name, () => repo.create(spec))
      return sync(def.id)
    },
    async update(id, patch) {
      const current = editable(id)
      const spec = apiModelSpec(
        patched(current, patch),
        defs.filter((d) => d.id !== id),
        o.env,
      )
      notARoute(spec)
      storing(spec.name, () => repo.replace(id, spec))
      return sync(id)
    },
    async remove(id) {
      const def = editable(id)
      repo.remove(id)
      defs = repo.list()
      await engines.update(defs)
      emit({ type: 'model_removed', id, name: def.name })
    },
    async start(id, { wait }) {
      const def = find(id)
      const started = engines.start(def.name)
      if (wait) await started
      else started.catch(() => undefined) // the failure is the model's state and diagnosis, announced as events
      return view(def)
    },
    async stop(id) {
      const def = find(id)
      await engines.stop(def.name)
      return view(def)
    },
    switch(id) {
      const run = async (): Promise<SwitchView> => {
        const def = find(id)
        const statuses = engines.statuses()
        const plan = switchPlan(
          candidate(def, statuses),
          defs.map((d) => candidate(d, statuses)),
          o.machineHasGpus,
        )
        const stopped = defs.filter((d) => plan.stop.includes(d.id))
        await Promise.all(stopped.map((d) => engines.stop(d.name, 'switched')))
        const started = engines.start(def.name)
        started.catch(() => undefined) // the failure is the model's state and diagnosis, announced as events
        return { model: view(def), stopped: stopped.map((d) => d.name), keptPinned: plan.keptPinned }
      }
      const next = switching.then(run, run)
      switching = next.catch(() => undefined)
      return next
    },
    async setPinned(id, pinned) {
      editable(id)
      return service.update(id, { pinned })
    },
    dryRun: async (id) =>
      dryRun(find(id), {
        ...o.dryRun,
        docker: o.docker?.status() ?? NO_DOCKER,
        preview: (def) => engines.placementPreview(def.name),
      }),
    async dryRunDraft(body) {
      const def: ModelDefinition = { ...apiModelSpec(body, defs, o.env), id: DRAFT_ID }
      return dryRun(def, {
        ...o.dryRun,
        docker: o.docker?.status() ?? NO_DOCKER,
        preview: (d) => engines.previewDefinition(d),
      })
    },
    logs: (id) => engines.logs(find(id).name),
    followLogs: (id, onLine) => engines.followLogs(find(id).name, onLine),
    subscribe(fn) {
      listeners.add(fn)
      return () => listeners.delete(fn)
    },
    snapshot() {
      return { type: 'snapshot', models: service.list(), docker: o.docker?.status() ?? NO_DOCKER }
    },
  }
  return service
}
