import { describe, expect, it } from 'vitest'
import type { AdminEvent } from '../../gateway/contract/admin.js'
import type { StateReason } from '../../gateway/contract/model.js'
import { notificationFor } from './notifications.js'

type StateEvent = Extract<AdminEvent, { type: 'model_state' }>
const event = (state: StateEvent['state'], reason: StateReason, extra: Partial<StateEvent> = {}): StateEvent => ({
  type: 'model_state',
  id: 'm1',
  name: 'qwen',
  state,
  reason,
  ...extra,
})

describe('notificationFor', () => {
  it('says a model is ready when a load ends in running', () => {
    expect(notificationFor(event('running', 'requested'), 'loading')).toEqual({
      modelId: 'm1',
      title: 'qwen is ready',
      body: 'qwen is running and answering on /v1.',
    })
    expect(notificationFor(event('running', 'requested'), 'starting')?.title).toBe('qwen is ready')
  })

  it('names the cause from the diagnosis when a start fails', () => {
    const diagnosis = {
      cause: 'out_of_memory',
      message: 'GPU 0 has 2 GiB free; stop "llama" or pick a smaller quantization',
      exitCode: 1,
      logTail: [],
    }
    expect(notificationFor(event('failed', 'failed', { diagnosis }), 'loading')).toEqual({
      modelId: 'm1',
      title: 'qwen failed to start',
      body: 'out_of_memory: GPU 0 has 2 GiB free; stop "llama" or pick a smaller quantization',
    })
    expect(notificationFor(event('failed', 'failed'), 'starting')?.body).toMatch(/^No diagnosis was recorded/)
  })

  it('tells an eviction from a stop by the reason, once per eviction', () => {
    expect(notificationFor(event('stopping', 'evicted'), 'running')?.title).toBe('qwen was stopped to make room')
    expect(notificationFor(event('stopped', 'evicted'), 'stopping')).toBeNull()
    expect(notificationFor(event('stopped', 'evicted'), 'running')?.title).toBe('qwen was stopped to make room')
  })

  it.each<[StateEvent['state'], StateReason, StateEvent['state'] | undefined]>([
    ['stopping', 'requested', 'running'],
    ['stopped', 'idle', 'stopping'],
    ['stopped', 'switched', 'stopping'],
    ['stopped', 'scheduled', 'running'],
    ['starting', 'requested', 'stopped'],
    ['loading', 'requested', 'starting'],
    ['running', 'requested', 'running'],
    ['running', 'requested', undefined],
  ])('gives nothing for %s (%s) after %s', (state, reason, before) => {
    expect(notificationFor(event(state, reason), before)).toBeNull()
  })
})
