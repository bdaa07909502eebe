import { afterEach, describe, expect, it, vi } from 'vitest'
import { FakeEventSource } from '../test/fakes.js'
import { ReconnectingStream } from './stream.js'

describe('ReconnectingStream', () => {
  afterEach(() => {
    FakeEventSource.all = []
  })

  it('reconnects after an error with a doubling delay, reset by a successful open', async () => {
    vi.useFakeTimers()
    vi.spyOn(Math, 'random').mockReturnValue(0)
    const states: string[] = []
    const stream = new ReconnectingStream({
      url: '/e',
      types: ['x'],
      onMessage: () => {},
      onState: (s) => states.push(s),
      factory: FakeEventSource.factory,
    }).start()
    FakeEventSource.latest().fail()
    expect(FakeEventSource.all[0]!.closed).toBe(true)
    await vi.advanceTimersByTimeAsync(999)
    expect(FakeEventSource.all).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(FakeEventSource.all).toHaveLength(2)
    FakeEventSource.latest().fail()
    await vi.advanceTimersByTimeAsync(1999)
    expect(FakeEventSource.all).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(FakeEventSource.all).toHaveLength(3)
    FakeEventSource.latest().open()
    expect(stream.delayMs()).toBe(1000)
    expect(states).toEqual(['connecting', 'reconnecting', 'reconnecting', 'reconnecting', 'reconnecting', 'open'])
    stream.stop()
  })

  it('stops for good when the session is gone', async () => {
    vi.useFakeTimers()
    const stream = new ReconnectingStream({
      url: '/e',
      types: [],
      onMessage: () => {},
      onState: () => {},
      shouldReconnect: async () => false,
      factory: FakeEventSource.factory,
    }).start()
    FakeEventSource.latest().fail()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(FakeEventSource.all).toHaveLength(1)
    stream.stop()
  })

  it('passes each named event on, and only those', () => {
    const got: string[] = []
    const stream = new ReconnectingStream({
      url: '/e',
      types: ['a', 'b'],
      onMessage: (type, data) => got.push(`${type}:${data}`),
      onState: () => {},
      factory: FakeEventSource.factory,
    }).start()
    FakeEventSource.latest().emit('a', 'one')
    FakeEventSource.latest().emit('b', 'two')
    FakeEventSource.latest().emit('c', 'ignored')
    expect(got).toEqual(['a:one', 'b:two'])
    stream.stop()
  })
})
