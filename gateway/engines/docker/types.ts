import type { Logger } from 'pino'
import type { AdminEvent, DockerStatus, ImageView, ModelDefinition } from '../../contract/index.js'
import type { ContainerPlan } from '../backends/container.js'
import type { Driver } from '../driver.js'

/** Images on the Docker daemon. Methods throw CortexError `docker_unavailable` when the daemon does not answer. */
export interface ImageService {
  status(): DockerStatus
  list(): Promise<ImageView[]>
  /** `docker load` of a tar on this machine; resolves with the `repo:tag` names (or ids) it loaded.
   *  A missing or unreadable file, or a tar Docker refuses, is `invalid_request` with param `path`. */
  load(path: string): Promise<string[]>
  /** Pulls with per-layer progress on the events stream; resolves when done. */
  pull(image: string): Promise<void>
}

export interface DockerRuntimeOptions {
  /** This data directory's id: the `ai.cortex.instance` label. Containers of other instances are never touched. */
  instance: string
  logger: Logger
  /** `DOCKER_HOST` (unix://…, tcp://…); unset = the platform's default socket. */
  dockerHost?: string
  /** Whether this machine has NVIDIA GPUs (picks `:server-cuda` over `:server` as llama.cpp's default image). */
  hasGpus: boolean
  /** How often a daemon that does not answer is asked again (default 5 s). */
  reconnectMs?: number
  /** The host's Hugging Face cache, mounted into vLLM containers (default `~/.cache/huggingface`). */
  hfCache?: string
  /** Secrets added to every container's environment at create time (HF_TOKEN from the settings), read at each
   *  create; never part of labels, the plan hash or logs. */
  secretEnv?: () => Record<string, string>
}

/** One line of a pull's progress, as the admin events stream carries it. */
export type PullProgress = Omit<Extract<AdminEvent, { type: 'image_pull' }>, 'type'>

/**
 * Cortex's Docker side: the only code that imports dockerode. Containers carry the labels of ARCHITECTURE.md
 * (`ai.cortex.managed`, `.instance`, `.model`, `.replica`, `.plan-hash` (plan without the port), `.port`).
 */
export interface DockerRuntime extends ImageService {
  /** The driver of one docker-runtime model. Its `start` adopts this instance's running container for that model and
   *  replica when the plan hash matches, replaces a stale one, else creates one; a missing daemon is a StartFailure
   *  with cause `docker_unavailable`; a missing image that cannot be pulled is cause `image_missing`. Handles expose
   *  `detach()` to let go of a container without stopping it (stopOnExit: false); after it, `exited` never settles. */
  driver(def: ModelDefinition): Driver
  /**
   * Start-up reconciliation, before serving: removes this instance's containers whose model is not in `defs`, whose
   * plan hash no longer matches, or that are not running; returns the ids of models with a running, matching
   * container (the manager then starts those models, and their drivers adopt the containers). With the daemon
   * unavailable it removes nothing and returns [] (the drivers sort their own containers out at their first start).
   */
  reconcile(defs: ModelDefinition[]): Promise<string[]>
  /** The model id of one of this instance's containers, else null (attributes GPU memory to models). */
  modelOfContainer(containerId: string): Promise<string | null>
  /** The container a start of `def` would create (the port left as `${PORT}`); throws for a definition without one. */
  plan(def: ModelDefinition): ContainerPlan
  /** Daemon availability changes (`available` flips, or the reason it is unavailable changes); returns the
   *  unsubscribe function. */
  onStatus(fn: (s: DockerStatus) => void): () => void
  /** Per-layer progress of every pull (admin pulls and the pulls a start needs); returns the unsubscribe function. */
  onPullProgress(fn: (p: PullProgress) => void): () => void
  /** Stops watching events and the daemon, and stops following the containers still held; leaves them running. */
  close(): Promise<void>
}
