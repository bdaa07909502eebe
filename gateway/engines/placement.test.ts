import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { CortexError, ModelDefinition } from '../contract/index.js'
import { modelDefinition } from '../contract/model.test-support.js'
import type { ModelNeed } from '../models/need.js'
import type { GpuSample } from '../system/nvidia-smi.js'
import { rejection } from '../../test/support/rejection.js'
import { FakeDriver, memoryPids } from './fakes.test-support.js'
import { createEngineManager, type EngineManager } from './manager.js'

const GiB = 1024 ** 3
const gpu = (freeGiB: number): GpuSample => ({
  index: 0,
  uuid: 'GPU-0',
  name: 'NVIDIA H100 80GB HBM3',
  memoryTotalBytes: 80 * GiB,
  memoryUsedBytes: (80 - freeGiB) * GiB,
  memoryFreeBytes: freeGiB * GiB,
  utilizationPercent: 0,
  temperatureC: 30,
  powerDrawW: 70,
  powerLimitW: 700,
})

let manager: EngineManager | undefined
afterEach(async () => {
  await manager?.close()
  manager = undefined
})

/** Models `a` and `b` on one GPU; `needGiB` is what each takes; `free` is what nvidia-smi says is free now. */
function setup(needGiB: Record<string, number>, over: Partial<Record<string, Partial<ModelDefinition>>> = {}) {
  const state = { free: 80, gpus: true, needs: 0 }
  const driver = new FakeDriver()
  const models = Object.keys(needGiB).map((name) =>
    modelDefinition({ name, startTimeoutMs: 5000, queue: { size: 4, timeoutMs: 5000 }, ...over[name], id: `id-${name}` }),
  )
  manager = createEngineManager({
    models,
    pids: memoryPids(),
    logger: pino({ level: 'silent' }),
    llamaServer: null,
    stopOnExit: true,
    pollMs: 5,
    stopGraceMs: 50,
    drivers: { process: () => driver },
    placement: {
      readGpus: async () => (state.gpus ? [gpu(state.free)] : []),
      need: async (def): Promise<ModelNeed> => {
        state.needs++
        return { perGpu: new Map([[0, needGiB[def.name]! * GiB]]), estimate: null, warnings: [] }
      },
    },
  })
  return { m: manager, driver, state }
}

const modelState = (m: EngineManager, name: string) => m.statuses().find((s) => s.name === name)!.state
const signal = () => new AbortController().signal

describe('placement on GPU memory', () => {
  it('stops the least recently used idle model to make room, and starts the new one', async () => {
    const { m, state } = setup({ a: 30, b: 40, c: 30 })
    const stopsOfA: string[] = []
    m.subscribe((e) => {
      if (e.model === 'a' && (e.state === 'stopping' || e.state === 'stopped')) stopsOfA.push(e.reason)
    })
    await m.start('a')
    state.free = 50
    await m.start('c')
    state.free = 20
    ;(await m.acquire('c', signal())).release() // c is now more recently used than a
    await m.start('b')
    expect([modelState(m, 'a'), modelState(m, 'b'), modelState(m, 'c')]).toEqual(['stopped', 'running', 'running'])
    expect(stopsOfA).toEqual(['evicted', 'evicted'])
  })

  it('never evicts a pinned or busy model: the start fails saying what is needed, what is free and who holds it', async () => {
    const { m, state } = setup({ a: 30, b: 40, c: 30 }, { a: { pinned: true } })
    await m.start('a')
    await m.start('c')
    state.free = 20
    const lease = await m.acquire('c', signal())
    const err = (await rejection(m.start('b'))) as CortexError
    lease.release()
    expect(err.code).toBe('model_start_failed')
    expect(err.details?.diagnosis).toMatchObject({ cause: 'insufficient_vram' })
    expect(err.message).toContain('needs about 40.0 GiB on GPU 0 but 20.0 GiB would be free')
    expect(err.message).toContain('held by a (30.0 GiB, pinned), c (30.0 GiB, busy)')
    expect([modelState(m, 'a'), modelState(m, 'c')]).toEqual(['running', 'running'])
  })

  it('counts a model that is still starting as reserved', async () => {
    const { m, driver, state } = setup({ a: 30, b: 30 })
    driver.health = { status: 'loading' }
    const starting = m.start('a')
    state.free = 40 // a's memory does not show yet
    const err = (await rejection(m.start('b'))) as CortexError
    expect(err.details?.diagnosis).toMatchObject({ cause: 'insufficient_vram' })
    expect(err.message).toContain('held by a (30.0 GiB, starting)')
    driver.health = { status: 'ready' }
    await starting
  })

  it('checks nothing on a machine without GPUs', async () => {
    const { m, state } = setup({ a: 500 })
    state.gpus = false
    await m.start('a')
    expect(state.needs).toBe(0)
    expect(modelState(m, 'a')).toBe('running')
  })

  it('takes over models found running at start-up without checking them, and can still evict them', async () => {
    const { m, state } = setup({ a: 60, b: 30 }, { a: { replicas: 2 } })
    state.free = 1 // a's two replicas already hold the card
    m.adopt(['id-a'])
    await expect.poll(() => modelState(m, 'a')).toBe('running')
    await m.start('b')
    expect([modelState(m, 'a'), modelState(m, 'b')]).toEqual(['stopped', 'running'])
  })

  it('counts a replica that starts again once, not once per start', async () => {
    const { m, driver, state } = setup({ a: 30, b: 40 }, { a: { replicas: 2, pinned: true } })
    await m.start('a')
    await expect.poll(() => m.statuses()[0]!.replicas.every((r) => r.state === 'running')).toBe(true)
    driver.handles[0]!.exit(1) // replica 0 dies; the next request starts it again while replica 1 keeps running
    await expect.poll(() => m.statuses()[0]!.replicas[0]!.state).toBe('failed')
    state.free = 80 - 30 // replica 1 holds its share; replica 0's is free again
    await expect
      .poll(
        async () => {
          const lease = await m.acquire('a', signal()).catch(() => null)
          lease?.release()
          return m.statuses()[0]!.replicas.every((r) => r.state === 'running')
        },
        { timeout: 10_000 },
      )
      .toBe(true)
    state.free = 80 - 60
    const err = (await rejection(m.start('b'))) as CortexError
    expect(err.message).toContain('held by a (60.0 GiB, pinned)')
  })
})
