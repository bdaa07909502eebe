import type { CachePolicy } from './cache.js'
import type { ScheduleWindow } from './schedule.js'
import type { Static } from 'typebox'
import type { EngineKind, RuntimeKind } from './config.js'

export type Engine = Static<typeof EngineKind>
export type Runtime = Static<typeof RuntimeKind>

/** A model definition after validation and normalization: durations in ms, paths absolute, defaults filled. */
export interface ModelDefinition {
  /** Server-assigned opaque id (stable across restarts for the same name). */
  id: string
  name: string
  aliases: string[]
  engine: Engine
  runtime: Runtime
  /** Absolute GGUF path for llamacpp; HF repo id or absolute dir for vllm; undefined for remote. */
  source?: string
  args: string[]
  env: Record<string, string>
  replicas: number
  /** Idle time before stop, ms; 0 = never. */
  ttlMs: number
  pinned: boolean
  /** Switching to this model stops only the running models of this group, instead of every one sharing a GPU. */
  swapGroup?: string
  /** When the model is available; unset = always. */
  schedule?: ScheduleWindow[]
  /** Start the model when a schedule window opens. */
  preload?: boolean
  /** At a window's end, how long in-flight requests may finish before they are cut (default 5 min). */
  drainTimeoutMs?: number
  /** Per replica; undefined = no gateway cap. */
  maxConcurrent?: number
  queue: { size: number; timeoutMs: number }
  startTimeoutMs: number
  gpus: 'all' | 'none' | Array<number | string>
  /** docker runtime only: the image; unset = the engine's default image. */
  image?: string
  /** docker runtime only; unset = host. */
  network?: 'host' | 'bridge'
  /** remote runtime: one base URL (including /v1) per replica. */
  baseUrls: string[]
  /** remote runtime: resolved key (from apiKey or the apiKeyEnv variable). Never logged. */
  apiKey?: string
  upstreamModel?: string
  /** The completion cache; none when unset. */
  cache?: CachePolicy
  /** 'config' = declared in the config file (read-only on the admin API); 'api' = created at runtime. */
  origin: 'config' | 'api'
}

/**
 * Why a model changed state: `requested` (a start or stop someone asked for, or a request starting it on demand),
 * `idle` (its ttl passed), `evicted` (stopped to make GPU room), `switched` (stopped by a switch to another model),
 * `scheduled` (its schedule window ended), `failed`.
 */
export type StateReason = 'requested' | 'idle' | 'evicted' | 'switched' | 'scheduled' | 'failed'

/** `stopped → starting → loading → running`, `running → stopping → stopped`, any → `failed`. */
export type EngineState = 'stopped' | 'starting' | 'loading' | 'running' | 'stopping' | 'failed'

export interface ReplicaStatus {
  index: number
  state: EngineState
  /** e.g. http://127.0.0.1:41234 — the engine's root, without /v1. */
  url?: string
  pid?: number
  inFlight: number
}

export interface ModelStatus {
  id: string
  name: string
  aliases: string[]
  engine: Engine
  runtime: Runtime
  state: EngineState
  replicas: ReplicaStatus[]
  /** Requests waiting in the model's queue for a free slot. */
  queued: number
  /** n_ctx the engine reports once running (or the GGUF's trained context when known), else null. */
  contextLength: number | null
  /** Plain-words reason of the last failed start, with the fix, and the last log lines. */
  diagnosis: Diagnosis | null
  consecutiveFailures: number
  /** When a failed model may be started again automatically (epoch ms), else null. */
  retryAt: number | null
  lastUsedAt: number | null
  pinned: boolean
  /** While the model is starting or loading: when that start began (epoch ms); else null. */
  startingSince: number | null
  /** How long the model's last successful start took (first `starting` to first `running` replica), ms; null before
   *  one. Kept in memory: a restart of Cortex or a changed definition begins with null. */
  lastStartMs: number | null
  /** For a model with a schedule: whether its window is open now, and when that next changes (epoch ms; null when
   *  it never does). */
  schedule?: { open: boolean; nextChangeAt: number | null }
}

export interface Diagnosis {
  /** Short machine-readable cause: model_file_missing, not_gguf, port_in_use, out_of_memory, unknown_flag, exited, start_timeout, … */
  cause: string
  /** What went wrong and what to do, in words. */
  message: string
  exitCode: number | null
  logTail: string[]
}
