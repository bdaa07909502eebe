import { pino } from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { CortexError, Diagnosis, ModelDefinition } from '../contract/index.js'
import { modelDefinition } from '../contract/model.test-support.js'
import { rejection } from '../../test/support/rejection.js'
import type { Health } from './driver.js'
import { FakeDriver, memoryPids } from './fakes.test-support.js'
import { createEngineManager, type EngineManager } from './manager.js'
import type { Lease } from './types.js'

const logger = pino({ level: 'silent' })

const model = (over: Partial<ModelDefinition> = {}): ModelDefinition =>
  modelDefinition({ aliases: ['t'], queue: { size: 4, timeoutMs: 5000 }, startTimeoutMs: 5000, ...over })

const boom: Diagnosis = { cause: 'model_file_missing', message: 'model file /x.gguf does not exist', exitCode: null, logTail: [] }

let manager: EngineManager | undefined
afterEach(async () => {
  await manager?.close()
  manager = undefined
})

function setup(over: Partial<ModelDefinition> = {}, opts: { coldStartWaitMs?: number; now?: () => number } = {}) {
  const driver = new FakeDriver()
  manager = createEngineManager({
    models: [model(over)],
    pids: memoryPids(),
    logger,
    llamaServer: null,
    stopOnExit: true,
    pollMs: 5,
    stopGraceMs: 100,
    drivers: { process: () => driver, remote: () => driver },
    ...opts,
  })
  return { driver, m: manager }
}

const signal = () => new AbortController().signal
const state = (m: EngineManager) => m.statuses()[0]!.state
describe('ModelEngine.acquire', () => {
  it('starts a stopped model through loading and resolves by name or alias', async () => {
    const { driver, m } = setup()
    driver.health = { status: 'loading' }
    const seen: string[] = []
    m.subscribe((e) => seen.push(e.state))
    const p = m.acquire('t', signal())
    await vi.waitFor(() => expect(state(m)).toBe('loading'))
    driver.health = { status: 'ready' }
    const lease = await p
    expect(lease.target).toMatchObject({ model: 'tiny', replica: 0, apiRoot: '/v1' })
    expect(lease.target.dispatcher).toBeDefined()
    expect(seen).toEqual(['starting', 'loading', 'running'])
    lease.release()
  })

  it('announces the context length the engine says after running, as an event of the same state', async () => {
    const { driver, m } = setup()
    let say!: (n: number) => void
    driver.context = new Promise((resolve) => (say = resolve))
    const seen: string[] = []
    m.subscribe((e) => seen.push(`${e.state} ${e.contextLength}`))
    await m.start('tiny')
    await vi.waitFor(() => expect(seen.at(-1)).toBe('running null'))
    say(4096)
    await vi.waitFor(() => expect(seen.at(-1)).toBe('running 4096'))
    expect(seen.filter((s) => s.startsWith('running'))).toEqual(['running null', 'running 4096'])
    expect(m.statuses()[0]!.contextLength).toBe(4096)
    await m.stop('tiny')
    expect(seen.at(-1)).toBe('stopped null')
  })

  it('joins an in-flight start and wakes every waiter', async () => {
    const { driver, m } = setup()
    driver.health = { status: 'loading' }
    const all = Promise.all([1, 2, 3].map(() => m.acquire('tiny', signal())))
    await vi.waitFor(() => expect(state(m)).toBe('loading'))
    driver.health = { status: 'ready' }
    const leases = await all
    expect(driver.starts).toBe(1)
    expect(m.statuses()[0]!.replicas[0]!.inFlight).toBe(3)
    for (const l of leases) l.release()
    expect(m.statuses()[0]!.replicas[0]!.inFlight).toBe(0)
  })

  it('a conversation goes back to the replica that served it while that one has a free slot (-np), else the least busy', async () => {
    const { m } = setup({ replicas: 2, args: ['-np', '1'] })
    await m.start('tiny')
    await vi.waitFor(() => expect(m.statuses()[0]!.replicas.map((r) => r.state)).toEqual(['running', 'running']))
    const first = await m.acquire('tiny', signal(), 'conv-a')
    const home = first.target.replica
    first.release()
    // Without affinity the next request would take the other replica (round-robin among idle ones); with it, home.
    for (let i = 0; i < 3; i++) {
      const again = await m.acquire('tiny', signal(), 'conv-a')
      expect(again.target.replica).toBe(home)
      again.release()
    }
    // Home's one slot is busy: the conversation goes to the idle replica, which is its home from then on.
    const busy = await m.acquire('tiny', signal(), 'conv-a')
    expect(busy.target.replica).toBe(home)
    const moved = await m.acquire('tiny', signal(), 'conv-a')
    expect(moved.target.replica).toBe(1 - home)
    busy.release()
    moved.release()
    const after = await m.acquire('tiny', signal(), 'conv-a')
    expect(after.target.replica).toBe(1 - home)
    after.release()
  })

  it('a cold start launches all replicas, answers at the first ready one, then takes the least busy', async () => {
    const { driver, m } = setup({ replicas: 2 })
    let probes = 0
    // Only the first replica's URL is ready until the second is allowed.
    let secondReady = false
    driver.probe = async (url: string): Promise<Health> => {
      probes++
      return url.endsWith('20001') || secondReady ? { status: 'ready' } : { status: 'loading' }
    }
    const first = await m.acquire('tiny', signal())
    expect(driver.starts).toBe(2)
    expect(first.target.replica).toBe(0)
    secondReady = true
    await vi.waitFor(() => expect(m.statuses()[0]!.replicas.map((r) => r.state)).toEqual(['running', 'running']))
    const picks = async () => {
      const picked: number[] = []
      for (let i = 0; i < 4; i++) {
        const l = await m.acquire('tiny', signal())
        picked.push(l.target.replica)
        l.release()
      }
      return picked
    }
    // Replica 0 still serves the first request: the idle one takes every other.
    expect(await picks()).toEqual([1, 1, 1, 1])
    first.release()
    // Both idle: they take turns.
    const even = await picks()
    expect(new Set(even)).toEqual(new Set([0, 1]))
    expect(even[0]).not.toBe(even[1])
    expect(probes).toBeGreaterThan(0)
  })

  it('answers model_loading when the start outlasts the wait, and the start goes on', async () => {
    const { driver, m } = setup({}, { coldStartWaitMs: 50 })
    driver.health = { status: 'loading' }
    const err = await rejection<CortexError>(m.acquire('tiny', signal()))
    expect(err).toMatchObject({ code: 'model_loading', status: 503, details: { retryAfterSeconds: 5 } })
    expect(state(m)).toBe('loading')
    driver.health = { status: 'ready' }
    const lease = await m.acquire('tiny', signal())
    expect(driver.starts).toBe(1)
    lease.release()
  })

  it('rejects model_start_failed with the diagnosis, backs off, then retries on the next request', async () => {
    let t = 1_000_000
    const { driver, m } = setup({}, { now: () => t })
    driver.failWith = boom
    const err = await rejection<CortexError>(m.acquire('tiny', signal()))
    expect(err.code).toBe('model_start_failed')
    expect(err.message).toMatch(/does not exist/)
    expect(err.details).toMatchObject({ retryAfterSeconds: 1, diagnosis: boom })
    expect(m.statuses()[0]).toMatchObject({ state: 'failed', consecutiveFailures: 1, retryAt: t + 1000, diagnosis: boom })

    // Inside the backoff: no new start, same answer.
    await rejection<CortexError>(m.acquire('tiny', signal()))
    expect(driver.starts).toBe(1)

    t += 1000
    driver.failWith = null
    const lease = await m.acquire('tiny', signal())
    expect(driver.starts).toBe(2)
    expect(m.statuses()[0]).toMatchObject({ state: 'running', consecutiveFailures: 0, diagnosis: null })
    lease.release()
  })

  it('stays failed after 5 failures in a row until an explicit start', async () => {
    let t = 0
    const { driver, m } = setup({}, { now: () => t })
    driver.failWith = boom
    for (let i = 1; i <= 5; i++) {
      await rejection<CortexError>(m.acquire('tiny', signal()))
      t += 60_000
    }
    expect(driver.starts).toBe(5)
    const err = await rejection<CortexError>(m.acquire('tiny', signal()))
    expect(driver.starts).toBe(5)
    expect(err.message).toMatch(/gave up/)
    expect(err.details?.retryAfterSeconds).toBeUndefined()
    expect(m.statuses()[0]).toMatchObject({ state: 'failed', consecutiveFailures: 5, retryAt: null })

    driver.failWith = null
    await m.start('tiny')
    expect(driver.starts).toBe(6)
    expect(state(m)).toBe('running')
  })

  it('a replica given up on stays given up across an idle stop', async () => {
    let t = 0
    const { driver, m } = setup({ replicas: 2, ttlMs: 30 }, { now: () => t })
    driver.failWith = boom
    driver.failReplica = 1
    for (let i = 1; i <= 5; i++) {
      ;(await m.acquire('tiny', signal())).release()
      await vi.waitFor(() => expect(m.statuses()[0]!.replicas[1]!.state).toBe('failed'))
      // Past the backoff and the ttl: the idle check stops the model, the failed replica included.
      t += 60_000
      await vi.waitFor(() => expect(state(m)).toBe('stopped'))
    }
    expect(driver.startsBy).toEqual([5, 5])
    expect(m.statuses()[0]).toMatchObject({ consecutiveFailures: 5, retryAt: null })

    ;(await m.acquire('tiny', signal())).release()
    expect(driver.startsBy).toEqual([6, 5])
    expect(m.statuses()[0]!.replicas.map((r) => r.state)).toEqual(['running', 'stopped'])

    driver.failWith = null
    await m.start('tiny')
    await vi.waitFor(() => expect(m.statuses()[0]!.replicas[1]!.state).toBe('running'))
    expect(driver.startsBy).toEqual([6, 6])
  })

  it('a stop inside the backoff does not start the failed model early', async () => {
    const t = 0
    const { driver, m } = setup({}, { now: () => t })
    driver.failWith = boom
    await rejection<CortexError>(m.acquire('tiny', signal()))
    await m.stop('tiny')
    driver.failWith = null
    const err = await rejection<CortexError>(m.acquire('tiny', signal()))
    expect(err).toMatchObject({ code: 'model_start_failed', details: { retryAfterSeconds: 1, diagnosis: boom } })
    expect(driver.starts).toBe(1)
  })

  it('an explicit start with startTimeout 0 waits as long as the start takes', async () => {
    let t = 0
    const { driver, m } = setup({ startTimeoutMs: 0 }, { now: () => t })
    driver.health = { status: 'loading' }
    const started = m.start('tiny')
    await vi.waitFor(() => expect(state(m)).toBe('loading'))
    t += 3_600_000
    driver.health = { status: 'ready' }
    await started
    expect(state(m)).toBe('running')
  })

  it('a replica that dies while running fails with a diagnosis and restarts on a later request', async () => {
    let t = 0
    const { driver, m } = setup({}, { now: () => t })
    ;(await m.acquire('tiny', signal())).release()
    driver.handles[0]!.exit(139, 'SIGSEGV')
    await vi.waitFor(() => expect(state(m)).toBe('failed'))
    expect(m.statuses()[0]!.diagnosis?.message).toMatch(/SIGSEGV while serving/)
    t += 1000
    const lease = await m.acquire('tiny', signal())
    expect(driver.starts).toBe(2)
    lease.release()
  })
})

describe('ModelEngine queue', () => {
  const busy = async (over: Partial<ModelDefinition>) => {
    const ctx = setup({ maxConcurrent: 1, ...over })
    const holder = await ctx.m.acquire('tiny', signal())
    return { ...ctx, holder }
  }

  it('queues when the slots are taken and hands the freed slot over in FIFO order', async () => {
    const { m, holder } = await busy({ queue: { size: 2, timeoutMs: 5000 } })
    const order: string[] = []
    const a = m.acquire('tiny', signal()).then((l) => (order.push('a'), l))
    const b = m.acquire('tiny', signal()).then((l) => (order.push('b'), l))
    await new Promise((r) => setTimeout(r, 10))
    expect(order).toEqual([])
    holder.release()
    const la = await a
    la.release()
    const lb = await b
    expect(order).toEqual(['a', 'b'])
    expect(la.waitedMs).toBeGreaterThanOrEqual(5)
    lb.release()
  })

  it('rejects queue_full past the queue size', async () => {
    const { m, holder } = await busy({ queue: { size: 1, timeoutMs: 5000 } })
    const waiting = m.acquire('tiny', signal())
    const err = await rejection<CortexError>(m.acquire('tiny', signal()))
    expect(err).toMatchObject({ code: 'queue_full', status: 503, details: { retryAfterSeconds: 1 } })
    holder.release()
    ;(await waiting).release()
  })

  it('rejects queue_timeout at the queue deadline', async () => {
    const { m, holder } = await busy({ queue: { size: 1, timeoutMs: 30 } })
    const err = await rejection<CortexError>(m.acquire('tiny', signal()))
    expect(err).toMatchObject({ code: 'queue_timeout', details: { retryAfterSeconds: 1 } })
    holder.release()
  })

  it('an aborted waiter leaves the queue at once', async () => {
    const { m, holder } = await busy({ queue: { size: 1, timeoutMs: 5000 } })
    const ctl = new AbortController()
    const gone = m.acquire('tiny', ctl.signal)
    ctl.abort(new Error('client went away'))
    await expect(gone).rejects.toThrow('client went away')
    // Its place is free again: a new waiter fits in a queue of one.
    const next = m.acquire('tiny', signal())
    holder.release()
    ;(await next).release()
    expect(m.statuses()[0]!.replicas[0]!.inFlight).toBe(0)
  })

  it('queued waiters are not stranded when the only replica dies', async () => {
    const { driver, m, holder } = await busy({ queue: { size: 2, timeoutMs: 5000 } })
    driver.failWith = boom
    const waiting = rejection<CortexError>(m.acquire('tiny', signal()))
    driver.handles[0]!.exit(1)
    const err = await waiting
    expect(err.code).toBe('model_start_failed')
    holder.release()
  })

  it('close rejects callers waiting for a start', async () => {
    const { driver, m } = setup()
    driver.health = { status: 'loading' }
    const waiting = rejection<CortexError>(m.acquire('tiny', signal()))
    await vi.waitFor(() => expect(state(m)).toBe('loading'))
    await m.close()
    expect((await waiting).code).toBe('model_loading')
    expect(state(m)).toBe('stopped')
  })
})

describe('ModelEngine idle and lifecycle', () => {
  it('stops a model idle for its ttl, saying so in its events', async () => {
    const { m } = setup({ ttlMs: 60 }, { now: Date.now })
    const seen: string[] = []
    m.subscribe((e) => seen.push(`${e.state}:${e.reason}`))
    const lease: Lease = await m.acquire('tiny', signal())
    await new Promise((r) => setTimeout(r, 100))
    expect(state(m)).toBe('running') // busy: a request is in flight
    lease.release()
    await vi.waitFor(() => expect(state(m)).toBe('stopped'), { timeout: 1000 })
    expect(seen).toEqual(['starting:requested', 'running:requested', 'stopping:idle', 'stopped:idle'])
  })

  it('never stops a pinned model for idleness', async () => {
    const { m } = setup({ ttlMs: 30, pinned: true }, { now: Date.now })
    ;(await m.acquire('tiny', signal())).release()
    await new Promise((r) => setTimeout(r, 120))
    expect(state(m)).toBe('running')
  })

  it('stop ends the engine; the next request starts it again', async () => {
    const { driver, m } = setup()
    ;(await m.acquire('tiny', signal())).release()
    await m.stop('tiny')
    expect(state(m)).toBe('stopped')
    expect(m.statuses()[0]!.replicas[0]).toMatchObject({ url: undefined })
    ;(await m.acquire('tiny', signal())).release()
    expect(driver.starts).toBe(2)
  })

  it('a remote that stops answering leaves routing and is re-polled', async () => {
    const { driver, m } = setup(
      { runtime: 'remote', engine: 'openai', source: undefined, baseUrls: ['http://r/v1'] },
      { now: Date.now },
    )
    driver.runningCheckMs = 10
    ;(await m.acquire('tiny', signal())).release()
    driver.health = { status: 'down', reason: 'ECONNREFUSED' }
    await vi.waitFor(() => expect(state(m)).toBe('failed'))
    expect(m.statuses()[0]!.diagnosis?.cause).toBe('remote_unreachable')
    driver.health = { status: 'ready' }
    await vi.waitFor(() => expect(state(m)).toBe('running'), { timeout: 2500 })
  })

  it('unknown models are model_not_found', async () => {
    const { m } = setup()
    expect(m.resolve('t')?.name).toBe('tiny')
    expect(m.resolve('nope')).toBeUndefined()
    expect((await rejection<CortexError>(m.acquire('nope', signal()))).code).toBe('model_not_found')
  })

  it('a changed definition replaces the engine and forgets its failures', async () => {
    let t = 0
    const { driver, m } = setup({}, { now: () => t })
    driver.failWith = boom
    await rejection<CortexError>(m.acquire('tiny', signal()))
    await m.update([model({ args: ['-c', '512'] })])
    expect(m.statuses()[0]).toMatchObject({ state: 'stopped', consecutiveFailures: 0 })
    driver.failWith = null
    ;(await m.acquire('tiny', signal())).release()
    t += 1
  })
})
