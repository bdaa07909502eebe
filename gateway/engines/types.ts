import type { Dispatcher } from 'undici'
import type { ModelDefinition, ModelStatus } from '../contract/index.js'

/** Where one admitted request goes. */
export interface UpstreamTarget {
  /** Model name as configured (not the alias the client used). */
  model: string
  replica: number
  /** The path that stands for the client's `/v1` under the dispatcher's origin: `/v1` for engines Cortex runs,
   *  the base URL's own path for a remote (`https://host/openai/v1` → `/openai/v1`). No trailing slash. */
  apiRoot: string
  /** One keep-alive pool per upstream (it carries the origin), owned by the engine manager. */
  dispatcher: Dispatcher
  /** Remote only: sent as `Authorization: Bearer …` upstream. */
  apiKey?: string
  /** Remote only: rewrite the body's `model` to this, and back in responses. */
  upstreamModel?: string
}

/** A slot on a replica; release exactly once when the response is done (or failed, or aborted). */
export interface Lease {
  target: UpstreamTarget
  /** Milliseconds spent waiting for a cold start or a queue slot. */
  waitedMs: number
  release(): void
}

/** What the HTTP layer needs from the engine manager. */
export interface ModelRegistry {
  /** By name or alias. */
  resolve(nameOrAlias: string): ModelDefinition | undefined
  /** Every model with its live state (for /v1/models and /readyz). */
  statuses(): ModelStatus[]
  /**
   * Admits one request for `model`: starts it if stopped (concurrent callers join the same start),
   * waits for a running replica with a free slot (the least busy, or the one `affinity` was last served by while it
   * has a free slot; FIFO queue), all bounded.
   * Rejects with CortexError: model_loading (start outlasted the wait; the start goes on),
   * model_start_failed (with the diagnosis), queue_full, queue_timeout; or the signal's reason.
   */
  acquire(model: string, signal: AbortSignal, affinity?: string): Promise<Lease>
  /** The context length a running replica of the model reports; null when none runs or none says. */
  contextLength(model: string): number | null
}
