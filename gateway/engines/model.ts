import type { Logger } from 'pino'
import {
  CortexError,
  type Diagnosis,
  type EngineState,
  type ModelDefinition,
  type ModelStatus,
  type ReplicaStatus,
  type Runtime,
  type StateReason,
} from '../contract/index.js'
import { BoundedFifo } from './policies/fifo.js'
import { idleExpired } from './policies/idle.js'
import { modelState } from './policies/lifecycle.js'
import { parseLlamaCppArgs } from '../models/estimate-args.js'
import { pickReplica } from './policies/replicas.js'
import { isOpen, nextChange } from './policies/schedule.js'
import { mayAutoRestart, restartDelay } from './policies/restart.js'
import type { Driver } from './driver.js'
import { Replica } from './replica.js'
import type { Lease } from './types.js'
import { ChangeSignal, deadlineWait } from './wait.js'

export interface EngineEvent {
  /** The model's id and name. */
  id: string
  model: string
  /** The model's state after the change. */
  state: EngineState
  reason: StateReason
  /** The replica that changed. */
  replica?: ReplicaStatus
  diagnosis?: Diagnosis
  /** The context the engine was started with, once one of its running replicas said (null until then). An engine
   *  says it after `running`, so learning it is announced as an event of the same state. */
  contextLength: number | null
}

export interface ModelEngineOptions {
  def: ModelDefinition
  driver: Driver
  logger: Logger
  now: () => number
  /** How long a request waits for a cold start before `model_loading`. */
  coldStartWaitMs: number
  pollMs: number
  stopGraceMs: number
  onEvent: (e: EngineEvent) => void
}

/** Conversations remembered per model for replica affinity. */
const AFFINITY_ENTRIES = 10_000

/** llama-server's parallel slots from its flags; null when unknown (vLLM batches, or the flags leave it out). */
function engineSlots(def: ModelDefinition): number | null {
  if (def.engine !== 'llamacpp') return null
  try {
    return parseLlamaCppArgs(def.args).parallel
  } catch {
    return null
  }
}

/** Retry-After for `model_loading`: a start is under way, a few seconds is a fair next look. */
const LOADING_RETRY_AFTER_S = 5
const QUEUE_RETRY_AFTER_S = 1

/** Failed, or stopped after failing, with automatic restarts still allowed. */
const mayRestart = (r: Replica, runtime: Runtime) => mayAutoRestart(r.failures, runtime, r.diagnosis?.cause)
const backingOff = (r: Replica, runtime: Runtime) =>
  (r.state === 'failed' || (r.state === 'stopped' && r.failures > 0)) && mayRestart(r, runtime)

/** A taken slot; `acquire` adds how long the caller waited. */
type Slot = Omit<Lease, 'waitedMs'>
type SlotWaiter = (slot: Slot | null) => void

/**
 * The one owner of a model (STYLE.md §2): callers ask for outcomes (`acquire`, `start`, `stop`) and never read the
 * state to decide whether to act. Every replica transition wakes every waiter (`changes.notify()` and `pump()`),
 * and every wait has a deadline and honours its AbortSignal, so no request is stranded.
 */
export class ModelEngine {
  private readonly replicas: Replica[]
  private cursor = 0
  private readonly queue: BoundedFifo<SlotWaiter>
  private readonly changes = new ChangeSignal()
  private lastUsedAt: number | null = null
  private readyAt: number | null = null
  /** When the model last went from not starting to starting or loading; null once it is running or gave up. */
  private startingSince: number | null = null
  /** How long the model's last successful start took, ms (in memory: a new engine, as after a definition change or a
   *  restart of Cortex, has none yet). */
  private lastStartMs: number | null = null
  private lastDiagnosis: Diagnosis | null = null
  /** Callers inside `acquire` that do not hold a slot yet: a model with any is busy, not idle. */
  private pending = 0
  private idleTimer: NodeJS.Timeout | undefined
  private readonly recoverTimers = new Set<NodeJS.Timeout>()
  private closed = false
  /** Conversation → the replica that last served it (its KV cache holds the prompt); oldest forgotten first. */
  private readonly affinity = new Map<string, number>()
  /** Requests each engine serves at once (llama-server's `-np`), when its flags say. */
  private readonly slots: number | null
  private scheduleCache:
    { minute: number; windows: NonNullable<ModelDefinition['schedule']>; value: NonNullable<ModelStatus['schedule']> } | undefined
  /** Why the model's replicas are stopping or stopped (told by whoever stops them). */
  private stopReason: StateReason = 'requested'
  private announcedContextLength: number | null = null

  constructor(private readonly o: ModelEngineOptions) {
    const { def } = o
    this.queue = new BoundedFifo(def.queue.size)
    this.slots = engineSlots(def)
    const count = def.runtime === 'remote' ? def.baseUrls.length : def.replicas
    this.replicas = Array.from(
      { length: count },
      (_, index) =>
        new Replica({
          index,
          def,
          driver: o.driver,
          logger: o.logger,
          now: o.now,
          pollMs: o.pollMs,
          stopGraceMs: o.stopGraceMs,
          onChange: (r, transitioned) => this.onReplicaChange(r, transitioned),
        }),
    )
  }

  get def(): ModelDefinition {
    return this.o.def
  }

  /** Takes a definition that differs only in what the engine never sees (`pinned`, `ttlMs`): no restart. */
  retune(def: ModelDefinition): void {
    this.o.def = def
    this.scheduleIdle()
  }

  /**
   * Admits one request: ensures a running replica (joining any start under way), then takes a slot round-robin,
   * or waits in the FIFO queue. Rejects with model_loading, model_start_failed, queue_full, queue_timeout, or the
   * signal's reason.
   */
  async acquire(signal: AbortSignal, waitMs = this.o.coldStartWaitMs, affinity?: string): Promise<Lease> {
    const t0 = this.o.now()
    this.pending++
    this.lastUsedAt = t0
    try {
      let queueDeadline: number | null | undefined
      for (;;) {
        await this.ensureReady(signal, t0 + waitMs)
        // Newcomers queue behind earlier waiters instead of taking a slot that is about to be handed to them.
        if (this.queue.length === 0) {
          const slot = this.take(affinity)
          if (slot) return { ...slot, waitedMs: this.o.now() - t0 }
        }
        queueDeadline ??= this.o.def.queue.timeoutMs > 0 ? this.o.now() + this.o.def.queue.timeoutMs : null
        const slot = await this.waitSlot(signal, queueDeadline === null ? null : queueDeadline - this.o.now())
        if (slot && signal.aborted) {
          slot.release()
          throw signal.reason
        }
        // null: no replica is running any more; go round again (restart, wait for a start, or fail).
        if (slot) return { ...slot, waitedMs: this.o.now() - t0 }
      }
    } finally {
      this.pending--
      this.lastUsedAt = this.o.now()
      this.scheduleIdle()
    }
  }

  /** Brings at least one replica to `running`; resolves at the first ready one. Concurrent callers join.
   *  `deadline` null: no deadline of its own (the replicas' start timeout, if any, bounds it). */
  async ensureReady(signal: AbortSignal, deadline: number | null): Promise<void> {
    for (;;) {
      if (this.closed)
        throw new CortexError('model_loading', 'Cortex is shutting down', { retryAfterSeconds: LOADING_RETRY_AFTER_S })
      signal.throwIfAborted()
      this.launchEligible()
      if (this.replicas.some((r) => r.state === 'running')) return
      if (!this.replicas.some((r) => r.state === 'starting' || r.state === 'loading' || r.state === 'stopping')) {
        throw this.startFailedError()
      }
      await this.changes.wait(
        signal,
        deadline === null ? null : deadline - this.o.now(),
        () =>
          new CortexError('model_loading', `model "${this.o.def.name}" is loading; try again shortly`, {
            retryAfterSeconds: LOADING_RETRY_AFTER_S,
          }),
      )
    }
  }

  /** Explicit start: forgives earlier failures, starts every replica, resolves at the first ready one. */
  async start(): Promise<void> {
    for (const r of this.replicas) r.resetFailures()
    // The replicas' own start timeout bounds this; the margin covers one last health probe and a timed-out start's stop.
    const { startTimeoutMs } = this.o.def
    const deadline = startTimeoutMs > 0 ? this.o.now() + startTimeoutMs + this.o.stopGraceMs + 5000 : null
    await this.ensureReady(new AbortController().signal, deadline)
  }

  async stop(opts: { detach?: boolean; reason?: StateReason } = {}): Promise<void> {
    clearTimeout(this.idleTimer)
    this.stopReason = opts.reason ?? 'requested'
    await Promise.all(this.replicas.map((r) => r.stop(opts)))
  }

  /** Stops for good: pending and future callers get an error, nothing restarts. `detach`: engines that can outlive
   *  Cortex (containers) are let go of, running, instead of stopped. */
  async close(opts: { detach?: boolean } = {}): Promise<void> {
    this.closed = true
    for (const t of this.recoverTimers) clearTimeout(t)
    this.changes.notify()
    this.pump()
    await this.stop(opts)
  }

  /** Every new line of the engines' output (prefixed by the replica when there are several). */
  followLogs(fn: (line: string) => void): () => void {
    const prefixed = this.replicas.length > 1
    const offs = this.replicas.map((r) => r.logs.follow(prefixed ? (l) => fn(`[${r.index}] ${l}`) : fn))
    return () => offs.forEach((off) => off())
  }

  logs(): string[] {
    return this.replicas.flatMap((r) =>
      this.replicas.length > 1 ? r.logs.tail().map((l) => `[${r.index}] ${l}`) : r.logs.tail(),
    )
  }

  status(): ModelStatus {
    const { def } = this.o
    const restartable = this.replicas.filter((r) => backingOff(r, this.o.def.runtime) && r.retryAt !== null)
    const state = modelState(this.replicas.map((r) => r.state))
    return {
      id: def.id,
      name: def.name,
      aliases: def.aliases,
      engine: def.engine,
      runtime: def.runtime,
      state,
      replicas: this.replicas.map((r) => r.status()),
      queued: this.queue.length,
      contextLength: this.contextLength(),
      diagnosis: state === 'running' ? null : this.lastDiagnosis,
      consecutiveFailures: Math.max(0, ...this.replicas.map((r) => r.failures)),
      retryAt: restartable.length > 0 ? Math.min(...restartable.map((r) => r.retryAt!)) : null,
      lastUsedAt: this.lastUsedAt,
      pinned: def.pinned,
      startingSince: this.startingSince,
      lastStartMs: this.lastStartMs,
      ...(def.schedule !== undefined && def.schedule.length > 0 && { schedule: this.scheduleNow(def.schedule) }),
    }
  }

  /** The schedule's state, recomputed once a minute at most: status() is read on every admin request and scrape. */
  private scheduleNow(windows: NonNullable<ModelDefinition['schedule']>): NonNullable<ModelStatus['schedule']> {
    const now = this.o.now()
    const minute = Math.floor(now / 60_000)
    if (this.scheduleCache?.minute !== minute || this.scheduleCache.windows !== windows) {
      this.scheduleCache = { minute, windows, value: { open: isOpen(windows, now), nextChangeAt: nextChange(windows, now) } }
    }
    return this.scheduleCache.value
  }

  /**
   * Starts stopped and failed replicas whose backoff has passed while restarts are still allowed. A stopped replica
   * keeps its failure count (an idle or explicit stop of a failed one is not a start), so the 5-in-a-row rule holds.
   */
  private launchEligible(): void {
    const now = this.o.now()
    for (const r of this.replicas) {
      if ((r.state === 'stopped' || r.state === 'failed') && mayRestart(r, this.o.def.runtime) && (r.retryAt ?? 0) <= now) {
        r.start()
      }
    }
  }

  private startFailedError(): CortexError {
    const d = this.lastDiagnosis
    const retryAts = this.replicas.filter((r) => backingOff(r, this.o.def.runtime)).map((r) => r.retryAt ?? 0)
    const retryAfterSeconds =
      retryAts.length > 0 ? Math.max(1, Math.ceil((Math.min(...retryAts) - this.o.now()) / 1000)) : undefined
    const gaveUp =
      retryAts.length === 0
        ? " (gave up after repeated failures: fix the cause, then restart Cortex or change the model's definition)"
        : ''
    return new CortexError(
      d?.cause === 'docker_unavailable' ? 'docker_unavailable' : 'model_start_failed',
      `model "${this.o.def.name}" failed to start${gaveUp}: ${d?.message ?? 'unknown cause'}`,
      {
        retryAfterSeconds,
        diagnosis: d,
      },
    )
  }

  private take(affinity?: string): Slot | null {
    const { def } = this.o
    const views = this.replicas.map((r) => ({
      index: r.index,
      state: r.state,
      inFlight: r.inFlight,
      maxConcurrent: def.maxConcurrent,
    }))
    const preferred = affinity === undefined ? undefined : this.affinity.get(affinity)
    const pick = pickReplica(views, this.cursor, preferred === undefined ? undefined : { index: preferred, slots: this.slots })
    if (!pick) return null
    this.cursor = pick.nextCursor
    if (affinity !== undefined && this.replicas.length > 1) this.remember(affinity, pick.index)
    const r = this.replicas[pick.index]!
    r.inFlight++
    let released = false
    return {
      target: {
        model: def.name,
        replica: r.index,
        apiRoot: r.apiRoot,
        dispatcher: r.dispatcher!,
        apiKey: def.apiKey,
        upstreamModel: def.upstreamModel,
      },
      release: () => {
        if (released) return
        released = true
        r.inFlight--
        this.lastUsedAt = this.o.now()
        this.pump()
        this.scheduleIdle()
      },
    }
  }

  private remember(affinity: string, replica: number): void {
    this.affinity.delete(affinity)
    this.affinity.set(affinity, replica)
    if (this.affinity.size > AFFINITY_ENTRIES) this.affinity.delete(this.affinity.keys().next().value!)
  }

  private waitSlot(signal: AbortSignal, timeoutMs: number | null): Promise<Slot | null> {
    if (this.queue.length >= this.queue.limit) {
      const n = this.queue.limit
      return Promise.reject(
        new CortexError('queue_full', `model "${this.o.def.name}" is busy and its queue of ${n} is full`, {
          retryAfterSeconds: QUEUE_RETRY_AFTER_S,
        }),
      )
    }
    const timeout = () =>
      new CortexError('queue_timeout', `model "${this.o.def.name}" had no free slot within ${this.o.def.queue.timeoutMs} ms`, {
        retryAfterSeconds: QUEUE_RETRY_AFTER_S,
      })
    return deadlineWait<Slot | null>(signal, timeoutMs, timeout, (settle) => {
      this.queue.push(settle)
      return () => this.queue.remove(settle)
    })
  }

  /** Hands free slots to the oldest waiters; when nothing runs any more, wakes them all to re-evaluate. */
  private pump(): void {
    while (this.queue.length > 0) {
      const slot = this.take()
      if (!slot) break
      this.queue.shift()!(slot)
    }
    if (this.queue.length > 0 && (this.closed || !this.replicas.some((r) => r.state === 'running'))) {
      for (const wake of this.queue.drain()) wake(null)
    }
  }

  /** The model's state after a change of replica `r`, with why, and the context length known now. */
  private announce(r: Replica): void {
    const state = modelState(this.replicas.map((x) => x.state))
    this.announcedContextLength = this.contextLength()
    this.o.onEvent({
      id: this.o.def.id,
      model: this.o.def.name,
      state,
      reason: state === 'failed' ? 'failed' : state === 'stopping' || state === 'stopped' ? this.stopReason : 'requested',
      replica: r.status(),
      diagnosis: r.state === 'failed' ? (r.diagnosis ?? undefined) : undefined,
      contextLength: this.announcedContextLength,
    })
  }

  private contextLength(): number | null {
    return this.replicas.find((r) => r.state === 'running' && r.contextLength !== null)?.contextLength ?? null
  }

  private onReplicaChange(r: Replica, transitioned: boolean): void {
    if (!transitioned) {
      if (this.contextLength() !== this.announcedContextLength) this.announce(r)
      return
    }
    if (r.state === 'running' && this.readyAt === null) this.readyAt = this.o.now()
    if (!this.replicas.some((x) => x.state === 'running')) this.readyAt = null
    if (r.state === 'failed') {
      this.lastDiagnosis = r.diagnosis
      this.scheduleRecovery(r)
    }
    if (r.state === 'running') this.lastDiagnosis = null
    this.timeStart(modelState(this.replicas.map((x) => x.state)))
    this.announce(r)
    this.changes.notify()
    this.pump()
    this.scheduleIdle()
  }

  /** Start timing for the console's load progress: a start runs from the model's first `starting` to its first
   *  `running` replica; a start that fails or is stopped records no duration. */
  private timeStart(state: EngineState): void {
    if (state === 'starting' || state === 'loading') {
      this.startingSince ??= this.o.now()
      return
    }
    if (state === 'running' && this.startingSince !== null) this.lastStartMs = this.o.now() - this.startingSince
    this.startingSince = null
  }

  /** A remote that stopped answering is re-polled after the backoff (polling starts nothing); process engines wait
   *  for the next request or an explicit start, per the restart rule. */
  private scheduleRecovery(r: Replica): void {
    if (this.o.def.runtime !== 'remote' || this.closed) return
    const t = setTimeout(() => {
      this.recoverTimers.delete(t)
      if (!this.closed && r.state === 'failed') r.start()
    }, restartDelay(r.failures))
    t.unref()
    this.recoverTimers.add(t)
  }

  /** Serving, queueing or admitting a request: such a model is never stopped for being idle, nor evicted. */
  busy(): boolean {
    return this.pending > 0 || this.queue.length > 0 || this.replicas.some((r) => r.inFlight > 0)
  }

  private scheduleIdle(): void {
    clearTimeout(this.idleTimer)
    const { ttlMs, pinned } = this.o.def
    if (ttlMs <= 0 || pinned || this.closed || this.readyAt === null || this.busy()) return
    const from = Math.max(this.lastUsedAt ?? 0, this.readyAt)
    this.idleTimer = setTimeout(() => this.idleCheck(), Math.max(0, from + ttlMs - this.o.now()))
    this.idleTimer.unref()
  }

  private idleCheck(): void {
    const from = Math.max(this.lastUsedAt ?? 0, this.readyAt ?? 0)
    if (!idleExpired(from, this.o.def.ttlMs, this.o.now(), this.busy(), this.o.def.pinned)) return this.scheduleIdle()
    this.o.logger.info('stopping idle model')
    this.stop({ reason: 'idle' }).catch((err: unknown) => this.o.logger.error({ err }, 'idle stop failed'))
  }
}
