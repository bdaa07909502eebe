import { describe, expect, it } from 'vitest'
import { modelView } from '../../gateway/contract/admin.test-support.js'
import type { AdminEvent } from '../../gateway/contract/admin.js'
import type { SystemSample } from '../../gateway/contract/system.js'
import { DISCONNECTED, applyEvent, createRebuilder, gpuBytesByModel, type TrayModels } from './tray-state.js'

const a = modelView({ id: 'a', name: 'a' })
const b = modelView({ id: 'b', name: 'b' }, { state: 'running' })
const connected: TrayModels = applyEvent(
  DISCONNECTED,
  { type: 'snapshot', models: [a, b], docker: { available: true, message: null } },
  0,
)
const stateEvent = (id: string, state: 'starting' | 'loading' | 'running' | 'stopped'): AdminEvent => ({
  type: 'model_state',
  id,
  name: id,
  state,
  reason: 'requested',
})

describe('applyEvent', () => {
  it('a snapshot replaces the models; changes before it are ignored', () => {
    expect(applyEvent(DISCONNECTED, stateEvent('a', 'running'), 0)).toBe(DISCONNECTED)
    expect(connected.models).toEqual([a, b])
  })

  it('dates the start of a load once and keeps it through loading; running clears it', () => {
    const starting = applyEvent(connected, stateEvent('a', 'starting'), 1000)
    const loading = applyEvent(starting, stateEvent('a', 'loading'), 4000)
    expect(loading.models![0]!.status).toMatchObject({ state: 'loading', startingSince: 1000 })
    const running = applyEvent(loading, stateEvent('a', 'running'), 9000)
    expect(running.models![0]!.status).toMatchObject({ state: 'running', startingSince: null })
    expect(running.models![1]).toBe(b)
  })

  it('keeps the diagnosis a failure carries', () => {
    const diagnosis = { cause: 'model_file_missing', message: 'no file', exitCode: 1, logTail: [] }
    const failed = applyEvent(
      connected,
      { type: 'model_state', id: 'a', name: 'a', state: 'failed', reason: 'failed', diagnosis },
      0,
    )
    expect(failed.models![0]!.status).toMatchObject({ state: 'failed', diagnosis })
  })

  it('adds, replaces and removes models', () => {
    const c = modelView({ id: 'c', name: 'c' })
    const pinnedA = modelView({ id: 'a', name: 'a', pinned: true })
    let s = applyEvent(connected, { type: 'model_updated', model: c }, 0)
    s = applyEvent(s, { type: 'model_updated', model: pinnedA }, 0)
    s = applyEvent(s, { type: 'model_removed', id: 'b', name: 'b' }, 0)
    expect(s.models).toEqual([pinnedA, c])
  })

  it('takes GPU memory per model from a GPU sample', () => {
    const s = applyEvent(
      connected,
      {
        type: 'gpu_sample',
        sample: sample([
          [
            ['a', 100],
            [null, 7],
          ],
          [['a', 50]],
        ]),
      },
      0,
    )
    expect(s.gpuBytes).toEqual(new Map([['a', 150]]))
  })
})

describe('gpuBytesByModel', () => {
  it('is null when no GPU listed its processes (no reading is not zero)', () => {
    expect(gpuBytesByModel(sample([null]))).toBeNull()
    expect(gpuBytesByModel(sample([]))).toBeNull()
  })
  it('sums a model over GPUs and leaves out processes of no model', () => {
    expect(
      gpuBytesByModel(
        sample([
          [
            ['a', 1],
            ['b', 2],
          ],
          null,
          [['a', 3]],
        ]),
      ),
    ).toEqual(
      new Map([
        ['a', 4],
        ['b', 2],
      ]),
    )
  })
})

/** One GPU per entry: its processes as [model id or null, bytes], or null when nvidia-smi could not list them. */
function sample(gpus: Array<Array<[string | null, number]> | null>): SystemSample {
  return {
    at: 0,
    host: null,
    error: null,
    gpus: gpus.map((processes, index) => ({
      index,
      uuid: `GPU-${index}`,
      name: 'H100',
      memoryTotalBytes: 80,
      memoryUsedBytes: null,
      memoryFreeBytes: null,
      utilizationPercent: null,
      temperatureC: null,
      powerDrawW: null,
      powerLimitW: null,
      processes:
        processes?.map(([model, usedBytes], pid) => ({
          pid,
          processName: 'llama-server',
          usedBytes,
          model: model === null ? null : { id: model, name: model },
        })) ?? null,
    })),
  }
}

describe('createRebuilder', () => {
  /** Timers run by hand: `advance(ms)` fires what is due, in order. */
  function manualTimers() {
    let now = 0
    const due: Array<{ at: number; fn: () => void; handle: number }> = []
    let next = 0
    return {
      setTimeout: (fn: () => void, ms: number) => (due.push({ at: now + ms, fn, handle: ++next }), next),
      clearTimeout: (handle: unknown) => void due.splice(due.findIndex((d) => d.handle === handle) >>> 0, 1),
      advance(ms: number) {
        const until = now + ms
        for (;;) {
          due.sort((x, y) => x.at - y.at)
          if (due[0] === undefined || due[0].at > until) break
          const d = due.shift()!
          now = d.at
          d.fn()
        }
        now = until
      },
      pending: () => due.length,
    }
  }

  it('rebuilds once for a burst of events', () => {
    const timers = manualTimers()
    let rebuilds = 0
    const r = createRebuilder(
      () => rebuilds++,
      () => false,
      timers,
      150,
    )
    for (let i = 0; i < 20; i++) r.schedule()
    timers.advance(149)
    expect(rebuilds).toBe(0)
    timers.advance(1)
    expect(rebuilds).toBe(1)
    r.schedule()
    timers.advance(150)
    expect(rebuilds).toBe(2)
  })

  it('rebuilds every second while a model loads, and stops ticking after', () => {
    const timers = manualTimers()
    let rebuilds = 0
    let loading = true
    const r = createRebuilder(
      () => rebuilds++,
      () => loading,
      timers,
      150,
    )
    r.schedule()
    timers.advance(150 + 3 * 1150)
    expect(rebuilds).toBe(4)
    loading = false
    timers.advance(1150)
    expect(rebuilds).toBe(5)
    timers.advance(10_000)
    expect(rebuilds).toBe(5)
    expect(timers.pending()).toBe(0)
  })

  it('does nothing after close', () => {
    const timers = manualTimers()
    let rebuilds = 0
    const r = createRebuilder(
      () => rebuilds++,
      () => true,
      timers,
      150,
    )
    r.schedule()
    r.close()
    timers.advance(5000)
    expect(rebuilds).toBe(0)
    expect(timers.pending()).toBe(0)
  })
})
