/**
 * The store's slices (STYLE.md §7): state and the pure functions that change it. The modules that do I/O (session.ts,
 * events.ts, loaders.ts, logs.ts) write the results with setState; views only select.
 */
import type {
  AdminEvent,
  ApiKeyView,
  DockerStatus,
  GpuSample,
  HostSample,
  ImageView,
  OrgView,
  RecipeView,
  SessionListItem,
  SessionUser,
  SettingsView,
  UsageReport,
  UserView,
} from '../../../gateway/contract/index.js'
import type { AnyModelView, SystemView } from '../api.js'
import { IDLE, type Remote } from './remote.js'

export interface SessionSlice {
  session:
    | { status: 'checking' }
    | { status: 'signed-out'; error: string | null; retryAt: number | null }
    | { status: 'signed-in'; user: SessionUser; csrf: string; expiresAt: number }
}

/** The events stream: one EventSource for the whole app. */
export type Connection = 'idle' | 'connecting' | 'open' | 'reconnecting'

export interface PullProgress {
  image: string
  status: string
  /** Per layer id: bytes done and total (null while unknown). */
  layers: Record<string, { status: string; current: number | null; total: number | null }>
}

export interface ModelsSlice {
  models: Record<string, AnyModelView>
  /** 'loading' until the first snapshot (or list) arrives. */
  modelsStatus: 'loading' | 'ready' | 'error'
  modelsError: string | null
  docker: DockerStatus | null
  connection: Connection
  pulls: Record<string, PullProgress>
}

export interface MonitorSample {
  at: number
  gpus: GpuSample[]
  host: HostSample | null
}

export interface MonitorSlice {
  /** Oldest first, at most an hour: what the charts draw. */
  samples: MonitorSample[]
  monitorStatus: 'loading' | 'ready' | 'error'
  /** Why the monitor could not read something (no nvidia-smi, …), from the latest sample. */
  monitorError: string | null
}

export interface DataSlice {
  keys: Remote<ApiKeyView[]>
  usage: Remote<UsageReport>
  settings: Remote<SettingsView>
  system: Remote<SystemView>
  recipes: Remote<RecipeView[]>
  orgs: Remote<OrgView[]>
  users: Remote<UserView[]>
  sessions: Remote<SessionListItem[]>
  images: Remote<ImageView[]>
}
export type DataKey = keyof DataSlice

export interface LogSlice {
  logs: { id: string; lines: string[]; status: 'connecting' | 'open' | 'reconnecting' | 'error'; error: string | null } | null
}

export type State = SessionSlice & ModelsSlice & MonitorSlice & DataSlice & LogSlice

export const initialState = (): State => ({
  session: { status: 'checking' },
  models: {},
  modelsStatus: 'loading',
  modelsError: null,
  docker: null,
  connection: 'idle',
  pulls: {},
  samples: [],
  monitorStatus: 'loading',
  monitorError: null,
  keys: IDLE,
  usage: IDLE,
  settings: IDLE,
  system: IDLE,
  recipes: IDLE,
  orgs: IDLE,
  users: IDLE,
  sessions: IDLE,
  images: IDLE,
  logs: null,
})

/** The charts' longest window. */
export const HISTORY_MS = 60 * 60_000
/** A log view keeps this many lines; older ones scroll away. */
export const MAX_LOG_LINES = 5000

/** Adds samples, keeping them ordered and within the last hour of the newest one. */
export function withSamples(samples: MonitorSample[], added: MonitorSample[]): MonitorSample[] {
  const all = [...samples, ...added].sort((a, b) => a.at - b.at)
  const newest = all.at(-1)?.at ?? 0
  return all.filter((s, i) => s.at > newest - HISTORY_MS && (i === 0 || s.at !== all[i - 1]!.at))
}

/** What one event changes. A snapshot replaces the models slice; the others are deltas (STYLE.md §7). */
export function applyEvent(state: State, event: AdminEvent, now: number): Partial<State> {
  switch (event.type) {
    case 'snapshot':
      return {
        models: Object.fromEntries(event.models.map((m) => [m.id, m])),
        modelsStatus: 'ready',
        modelsError: null,
        docker: event.docker,
      }
    case 'model_updated':
      return { models: { ...state.models, [event.model.id]: event.model } }
    case 'model_removed': {
      const { [event.id]: _gone, ...rest } = state.models
      return { models: rest }
    }
    case 'model_state': {
      const model = state.models[event.id]
      if (!model) return {}
      return { models: { ...state.models, [event.id]: withState(model, event, now) } }
    }
    case 'schedule': {
      // A window's edge: the model says when it is available next without being read again.
      const model = state.models[event.id]
      if (!model) return {}
      const schedule = { open: event.open, nextChangeAt: event.nextChangeAt }
      return { models: { ...state.models, [event.id]: { ...model, status: { ...model.status, schedule } } as AnyModelView } }
    }
    case 'docker':
      return { docker: event.docker }
    case 'image_pull':
      return { pulls: withPull(state.pulls, event) }
    case 'gpu_sample': {
      const { at, gpus, host, error } = event.sample
      return { samples: withSamples(state.samples, [{ at, gpus, host }]), monitorError: error }
    }
  }
}

type StateEvent = Extract<AdminEvent, { type: 'model_state' }>

function withState(model: AnyModelView, event: StateEvent, now: number): AnyModelView {
  const replicas = [...model.status.replicas]
  if (event.replica) {
    const at = replicas.findIndex((r) => r.index === event.replica!.index)
    if (at === -1) replicas.push(event.replica)
    else replicas[at] = event.replica
    replicas.sort((a, b) => a.index - b.index)
  }
  // Engines say their context after `running`: it comes as an event of the same state (absent from an older gateway).
  const contextLength = event.contextLength === undefined ? model.status.contextLength : event.contextLength
  if (!('diagnosis' in model.status)) {
    // A member's view: names and states only.
    return { ...model, status: { ...model.status, state: event.state, replicas, contextLength } } as AnyModelView
  }
  const loading = event.state === 'starting' || event.state === 'loading'
  const status = {
    ...model.status,
    state: event.state,
    replicas: replicas as typeof model.status.replicas,
    contextLength,
    // A failure's diagnosis stays until a start succeeds, so a stopped model still says why it failed.
    diagnosis:
      event.state === 'failed'
        ? (event.diagnosis ?? model.status.diagnosis)
        : event.state === 'running'
          ? null
          : model.status.diagnosis,
    // The event carries no start time: the first `starting` seen is close enough for the progress shown.
    startingSince: loading ? (model.status.startingSince ?? now) : null,
  }
  return { ...model, status } as AnyModelView
}

function withPull(pulls: Record<string, PullProgress>, event: Extract<AdminEvent, { type: 'image_pull' }>) {
  const pull = pulls[event.image] ?? { image: event.image, status: event.status, layers: {} }
  const layers =
    event.layer === null
      ? pull.layers
      : { ...pull.layers, [event.layer]: { status: event.status, current: event.current, total: event.total } }
  return { ...pulls, [event.image]: { image: event.image, status: event.status, layers } }
}
