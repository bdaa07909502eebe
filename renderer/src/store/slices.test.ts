import { describe, expect, it } from 'vitest'
import type { AdminEvent, ModelView } from '../../../gateway/contract/index.js'
import { modelView } from '../test/models.js'
import { applyEvent, HISTORY_MS, initialState, type State, withSamples } from './slices.js'

const apply = (state: State, event: AdminEvent, now = 1000): State => ({
  ...state,
  ...applyEvent(state, event, now),
})

describe('models slice', () => {
  it('a snapshot replaces the models and Docker state, and marks them loaded', () => {
    let s: State = { ...initialState(), models: { old: modelView('old') } }
    s = apply(s, { type: 'snapshot', models: [modelView('qwen')], docker: { available: false, message: 'start Docker' } })
    expect(Object.keys(s.models)).toEqual(['qwen'])
    expect(s.modelsStatus).toBe('ready')
    expect(s.docker).toEqual({ available: false, message: 'start Docker' })
  })

  it('a schedule edge says whether the model is available and when that changes next, and ignores unknown models', () => {
    let s: State = { ...initialState(), models: { n: modelView('n', { schedule: { open: false, nextChangeAt: 100 } }) } }
    s = apply(s, { type: 'schedule', id: 'n', name: 'n', open: true, nextChangeAt: 200 })
    expect((s.models.n as ModelView).status.schedule).toEqual({ open: true, nextChangeAt: 200 })
    expect(apply(s, { type: 'schedule', id: 'gone', name: 'gone', open: false, nextChangeAt: null }).models).toBe(s.models)
  })

  it('a state delta updates the state and the replica, and stamps when a start began', () => {
    let s: State = { ...initialState(), models: { q: modelView('q') } }
    s = apply(
      s,
      {
        type: 'model_state',
        id: 'q',
        name: 'q',
        state: 'starting',
        reason: 'requested',
        replica: { index: 0, state: 'starting', inFlight: 0 },
      },
      5000,
    )
    const q = s.models.q as ModelView
    expect(q.status.state).toBe('starting')
    expect(q.status.replicas).toEqual([{ index: 0, state: 'starting', inFlight: 0 }])
    expect(q.status.startingSince).toBe(5000)
    s = apply(
      s,
      {
        type: 'model_state',
        id: 'q',
        name: 'q',
        state: 'running',
        reason: 'requested',
        replica: { index: 0, state: 'running', inFlight: 0 },
      },
      9000,
    )
    expect((s.models.q as ModelView).status.startingSince).toBeNull()
  })

  it('a failure keeps its diagnosis through a stop and loses it on a successful start', () => {
    let s: State = { ...initialState(), models: { q: modelView('q') } }
    const diagnosis = { cause: 'model_file_missing', message: 'no file at /x.gguf: fix source', exitCode: 1, logTail: ['error'] }
    s = apply(s, { type: 'model_state', id: 'q', name: 'q', state: 'failed', reason: 'failed', diagnosis })
    s = apply(s, { type: 'model_state', id: 'q', name: 'q', state: 'stopped', reason: 'requested' })
    expect((s.models.q as ModelView).status.diagnosis).toEqual(diagnosis)
    s = apply(s, { type: 'model_state', id: 'q', name: 'q', state: 'running', reason: 'requested' })
    expect((s.models.q as ModelView).status.diagnosis).toBeNull()
  })

  it('takes the context length a state delta carries (it is learned after running), and keeps it when one has none', () => {
    let s: State = { ...initialState(), models: { q: modelView('q', { state: 'running' }) } }
    const running = { type: 'model_state', id: 'q', name: 'q', state: 'running', reason: 'requested' } as const
    s = apply(s, { ...running, contextLength: 8192 })
    expect((s.models.q as ModelView).status.contextLength).toBe(8192)
    s = apply(s, running)
    expect((s.models.q as ModelView).status.contextLength).toBe(8192)
    s = apply(s, { ...running, state: 'stopped', contextLength: null })
    expect((s.models.q as ModelView).status.contextLength).toBeNull()
  })

  it('updates and removals change one model; a delta for an unknown model changes nothing', () => {
    let s: State = { ...initialState(), models: { a: modelView('a'), b: modelView('b') } }
    s = apply(s, { type: 'model_updated', model: modelView('a', {}, { pinned: true }) })
    expect((s.models.a as ModelView).pinned).toBe(true)
    s = apply(s, { type: 'model_removed', id: 'b', name: 'b' })
    expect(Object.keys(s.models)).toEqual(['a'])
    expect(applyEvent(s, { type: 'model_state', id: 'zz', name: 'zz', state: 'running', reason: 'requested' }, 0)).toEqual({})
  })

  it('image pulls gather their layers', () => {
    let s: State = initialState()
    s = apply(s, { type: 'image_pull', image: 'vllm:1', layer: 'l1', status: 'Downloading', current: 5, total: 10 })
    s = apply(s, { type: 'image_pull', image: 'vllm:1', layer: 'l2', status: 'Downloading', current: 1, total: 4 })
    expect(s.pulls['vllm:1']?.layers).toEqual({
      l1: { status: 'Downloading', current: 5, total: 10 },
      l2: { status: 'Downloading', current: 1, total: 4 },
    })
  })
})

describe('monitor slice', () => {
  it('keeps samples ordered, once each, within the last hour', () => {
    const at = (t: number) => ({ at: t, gpus: [], host: null })
    const kept = withSamples([at(0), at(HISTORY_MS / 2)], [at(HISTORY_MS + 10), at(HISTORY_MS / 2)])
    expect(kept.map((s) => s.at)).toEqual([HISTORY_MS / 2, HISTORY_MS + 10])
  })

  it('a gpu_sample adds a reading and its error', () => {
    const s = apply(initialState(), {
      type: 'gpu_sample',
      sample: { at: 5, gpus: [], host: null, error: 'nvidia-smi not found' },
    })
    expect(s.samples).toHaveLength(1)
    expect(s.monitorError).toBe('nvidia-smi not found')
  })
})
