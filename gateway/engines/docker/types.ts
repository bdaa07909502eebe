import type { Logger } from 'pino'
import type { DockerStatus, ModelDefinition } from '../../contract/index.js'
import type { ImageService } from '../../models/service-types.js'
import type { Driver } from '../driver.js'

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
}

/**
 * Cortex's Docker side: the only code that imports dockerode. Containers carry the labels of ARCHITECTURE.md
 * (`ai.cortex.managed`, `.instance`, `.model`, `.replica`, `.plan-hash` (plan without the port), `.port`).
 */
export interface DockerRuntime extends ImageService {
  /** The driver of one docker-runtime model. Its `start` adopts this instance's running container for that model and
   *  replica when the plan hash matches, replaces a stale one, else creates one; a missing daemon is a StartFailure
   *  with cause `docker_unavailable`; a missing image that cannot be pulled is cause `image_missing`. Handles expose
   *  `detach()` to let go of a container without stopping it (stopOnExit: false). */
  driver(def: ModelDefinition): Driver
  /**
   * Start-up reconciliation, before serving: removes this instance's containers whose model is not in `defs`, whose
   * plan hash no longer matches, or that are not running; returns the ids of models with a running, matching
   * container (the manager then starts those models, and their drivers adopt the containers).
   */
  reconcile(defs: ModelDefinition[]): Promise<string[]>
  /** Daemon availability changes (`available` flips); returns the unsubscribe function. */
  onStatus(fn: (s: DockerStatus) => void): () => void
  /** Stops watching events and the daemon; leaves containers as they are. */
  close(): Promise<void>
}
