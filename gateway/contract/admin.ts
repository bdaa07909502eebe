import Type, { type Static } from 'typebox'
import { ModelConfig } from './config.js'
import type { Diagnosis, EngineState, ModelDefinition, ModelStatus, ReplicaStatus, StateReason } from './model.js'
import type { SystemSample } from './system.js'

/** `POST /admin/api/models`: a model entry exactly as in the config file; `source` must be an absolute path. */
export const ModelCreateBody = ModelConfig
export type ModelCreateBody = Static<typeof ModelCreateBody>

/** `PATCH /admin/api/models/{id}`: the fields to change; `null` removes an optional field (back to its default). */
export const ModelPatchBody = Type.Object(
  Object.fromEntries(
    Object.entries(ModelConfig.properties).map(([key, schema]) => [key, Type.Optional(Type.Union([schema, Type.Null()]))]),
  ),
  { additionalProperties: false },
)
export type ModelPatchBody = { [K in keyof ModelConfig]?: ModelConfig[K] | null }

/** `POST /admin/api/images/load`: a `docker save` tar on the machine Cortex runs on. */
export const ImageLoadBody = Type.Object({ path: Type.String({ minLength: 1 }) }, { additionalProperties: false })
export type ImageLoadBody = Static<typeof ImageLoadBody>

/** `POST /admin/api/images/pull`. */
export const ImagePullBody = Type.Object({ image: Type.String({ minLength: 1 }) }, { additionalProperties: false })
export type ImagePullBody = Static<typeof ImagePullBody>

/** A definition as the admin API shows it: secrets replaced by whether one is set. */
export type PublicModelDefinition = Omit<ModelDefinition, 'apiKey'> & { hasApiKey: boolean }

/** One model on the admin API: its definition and its live status. */
export interface ModelView extends PublicModelDefinition {
  status: ModelStatus
}

/** A model as an `admin:read` API key sees it: names and live state, no definition. */
export interface ModelStateView extends Pick<ModelView, 'id' | 'name' | 'aliases' | 'engine' | 'runtime'> {
  status: Pick<ModelStatus, 'state' | 'queued' | 'contextLength' | 'lastUsedAt'> & {
    replicas: Array<Pick<ReplicaStatus, 'index' | 'state' | 'inFlight'>>
  }
}

export interface ImageView {
  id: string
  /** `repo:tag` names; empty for a dangling image. */
  tags: string[]
  sizeBytes: number
  /** Epoch ms. */
  createdAt: number
}

/** Whether the Docker daemon answers; `message` says how to start it when it does not. */
export interface DockerStatus {
  available: boolean
  message: string | null
}

/** What `GET /admin/api/events` sends: a snapshot first, then one of the others per change. */
export type AdminEvent =
  | { type: 'snapshot'; models: ModelView[]; docker: DockerStatus }
  | {
      type: 'model_state'
      id: string
      name: string
      state: EngineState
      /** Why the model is in this state: a stop says whether it was asked for, idle, evicted or switched away from. */
      reason: StateReason
      replica?: ReplicaStatus
      diagnosis?: Diagnosis
      /** The context the running engine was started with, once it said (null until then, and once it stops). Learning
       *  it comes as an event of the same state: engines tell it after they are `running`. Absent: not known to the
       *  sender (a gateway older than this field). */
      contextLength?: number | null
    }
  /** Created or changed through the API (or a config reload). */
  | { type: 'model_updated'; model: ModelView }
  | { type: 'model_removed'; id: string; name: string }
  | { type: 'docker'; docker: DockerStatus }
  /** Pull progress per layer. */
  | { type: 'image_pull'; image: string; layer: string | null; status: string; current: number | null; total: number | null }
  /** A scheduled model's window opened or shut (at each edge of its schedule): whether it is open, and when that next
   *  changes (epoch ms; null when it never does). */
  | { type: 'schedule'; id: string; name: string; open: boolean; nextChangeAt: number | null }
  /** Every monitor tick while someone watches (GPUs with the models using them, and CPU, memory, disks). */
  | { type: 'gpu_sample'; sample: SystemSample }

/** What a member's `GET /admin/api/events` carries: names and states, no definitions, diagnoses or GPU samples. */
export type MemberEvent =
  | { type: 'snapshot'; models: ModelStateView[]; docker: DockerStatus }
  | { type: 'model_updated'; model: ModelStateView }
  | Omit<Extract<AdminEvent, { type: 'model_state' }>, 'replica' | 'diagnosis' | 'reason'>
  | Extract<AdminEvent, { type: 'model_removed' | 'docker' | 'schedule' }>

/** `POST /admin/api/models/{id}/switch`: the model starting, and the models stopped for it. */
export interface SwitchView {
  model: ModelView
  /** Names of the models stopped to make way. */
  stopped: string[]
  /** Names of the models that share its GPUs (or swap group) but are pinned, so kept running. */
  keptPinned: string[]
}

/** `POST /admin/api/models/{id}/dry-run`: what a start would do, starting nothing. */
export interface DryRunView {
  id: string
  name: string
  /** How the engine would run; `${PORT}` stands for the port picked at start. */
  plan:
    | { kind: 'process'; command: string; args: string[]; env: Record<string, string> }
    | {
        kind: 'container'
        image: string
        cmd: string[]
        env: Record<string, string>
        mounts: Array<{ source: string; target: string; readOnly: boolean }>
        network: 'host' | 'bridge'
        gpus: 'all' | 'none' | string[]
      }
    | { kind: 'remote'; baseUrls: string[] }
    | null
  /** The GPUs it would use, with what nvidia-smi says is free and what the model needs there. */
  gpus: Array<{ index: number; name: string; totalBytes: number | null; freeBytes: number | null; needBytes: number }>
  /** The engine-specific breakdown (weights, KV cache, compute, …), or null when there is nothing to estimate. */
  estimate: unknown
  /** Whether it fits now (after evicting `wouldEvict`); null when it takes no GPU memory here. */
  fits: boolean | null
  /** Idle models a start would stop to make room, least recently used first. */
  wouldEvict: string[]
  /** Everything a person should look at before starting. */
  warnings: string[]
}
