import { describe, expect, it, vi } from 'vitest'
import { FakeEventSource, signInAs, stubFetch } from '../test/fakes.js'
import { modelView } from '../test/models.js'
import { handleEvent, startEvents } from './events.js'
import { useStore } from './index.js'

describe('events stream', () => {
  it('opens one EventSource for the app; its snapshot fills the models, deltas change them', () => {
    FakeEventSource.all = []
    startEvents(FakeEventSource.factory)
    startEvents(FakeEventSource.factory)
    expect(FakeEventSource.all).toHaveLength(1)
    const source = FakeEventSource.latest()
    expect(source.url).toBe('/admin/api/events')
    expect(useStore.getState().connection).toBe('connecting')
    source.open()
    expect(useStore.getState().connection).toBe('open')
    source.emit('snapshot', { type: 'snapshot', models: [modelView('q')], docker: { available: true, message: null } })
    source.emit('model_state', { type: 'model_state', id: 'q', name: 'q', state: 'loading', reason: 'requested' })
    expect(useStore.getState().models.q?.status.state).toBe('loading')
  })

  it('ignores a malformed event or one whose data is not its name', () => {
    FakeEventSource.all = []
    startEvents(FakeEventSource.factory)
    const source = FakeEventSource.latest()
    source.emit('snapshot', '{not json')
    source.emit('snapshot', { type: 'docker', docker: { available: false, message: 'x' } })
    expect(useStore.getState().modelsStatus).toBe('loading')
    expect(useStore.getState().docker).toBeNull()
  })
})

describe('context length once running', () => {
  it('reads the model again when it turns running (the event carries no context), unless it stopped meanwhile', async () => {
    signInAs('admin')
    useStore.setState({ modelsStatus: 'ready', models: { q: modelView('q', { state: 'loading' }) } })
    stubFetch({ 'GET /admin/api/models/q': { body: modelView('q', { state: 'running', contextLength: 4096 }) } })
    handleEvent('model_state', JSON.stringify({ type: 'model_state', id: 'q', name: 'q', state: 'running', reason: 'requested' }))
    await vi.waitFor(() => expect(useStore.getState().models.q!.status.contextLength).toBe(4096))
  })
})
