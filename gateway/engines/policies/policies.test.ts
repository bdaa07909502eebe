import { describe, expect, it } from 'vitest'
import type { EngineState } from '../../contract/index.js'
import { BoundedFifo } from './fifo.js'
import { idleExpired } from './idle.js'
import { canTransition, modelState } from './lifecycle.js'
import { pickReplica, type ReplicaView } from './replicas.js'
import { MAX_CONSECUTIVE_FAILURES, mayAutoRestart, restartDelay } from './restart.js'

const r = (index: number, state: EngineState, inFlight = 0, maxConcurrent?: number): ReplicaView => ({
  index,
  state,
  inFlight,
  maxConcurrent,
})

describe('pickReplica', () => {
  it.each([
    ['no replicas', [], 0, null],
    ['one running', [r(0, 'running')], 0, { index: 0, nextCursor: 0 }],
    ['round-robin from cursor', [r(0, 'running'), r(1, 'running')], 1, { index: 1, nextCursor: 0 }],
    ['wraps the cursor', [r(0, 'running'), r(1, 'running')], 2, { index: 0, nextCursor: 1 }],
    ['skips non-running', [r(0, 'loading'), r(1, 'failed'), r(2, 'running')], 0, { index: 2, nextCursor: 0 }],
    ['skips full replicas', [r(0, 'running', 2, 2), r(1, 'running', 1, 2)], 0, { index: 1, nextCursor: 0 }],
    ['all full', [r(0, 'running', 2, 2), r(1, 'running', 5, 5)], 0, null],
    ['no cap when maxConcurrent undefined', [r(0, 'running', 1000)], 0, { index: 0, nextCursor: 0 }],
    ['none running', [r(0, 'starting'), r(1, 'stopping')], 0, null],
    ['uses replica index, not position', [r(3, 'running'), r(7, 'running')], 1, { index: 7, nextCursor: 0 }],
    [
      'the fewest in flight wins over the cursor',
      [r(0, 'running', 3), r(1, 'running', 1), r(2, 'running', 2)],
      0,
      { index: 1, nextCursor: 2 },
    ],
    ['ties go round-robin from the cursor', [r(0, 'running', 1), r(1, 'running', 1)], 1, { index: 1, nextCursor: 0 }],
  ] as const)('%s', (_name, replicas, cursor, expected) => {
    expect(pickReplica(replicas, cursor)).toEqual(expected)
  })

  it('keeps a conversation on its replica while that one has a free slot, else takes the least busy', () => {
    const two = (a: number, b: number) => [r(0, 'running', a), r(1, 'running', b)]
    expect(pickReplica(two(2, 0), 0, { index: 0, slots: 4 })?.index).toBe(0)
    expect(pickReplica(two(4, 0), 0, { index: 0, slots: 4 })?.index).toBe(1)
    expect(pickReplica(two(9, 0), 0, { index: 0, slots: null })?.index).toBe(0)
    // A preferred replica that is not running, or at its gateway cap, is passed over.
    expect(pickReplica([r(0, 'loading'), r(1, 'running', 3)], 0, { index: 0, slots: null })?.index).toBe(1)
    expect(pickReplica([r(0, 'running', 2, 2), r(1, 'running', 1, 2)], 0, { index: 0, slots: null })?.index).toBe(1)
    expect(pickReplica(two(0, 0), 0, { index: 5, slots: 4 })?.index).toBe(0)
  })

  it('alternates between running replicas when the cursor is passed back', () => {
    const replicas = [r(0, 'running'), r(1, 'loading'), r(2, 'running')]
    let cursor = 0
    const picked: number[] = []
    for (let i = 0; i < 4; i++) {
      const p = pickReplica(replicas, cursor)!
      picked.push(p.index)
      cursor = p.nextCursor
    }
    expect(picked).toEqual([0, 2, 0, 2])
  })
})

describe('restart rule', () => {
  it.each([
    [0, 0],
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [5, 16_000],
    [9, 16_000],
  ])('restartDelay(%i) = %i ms', (failures, ms) => {
    expect(restartDelay(failures)).toBe(ms)
  })

  it.each([
    [0, 'process', undefined, true],
    [4, 'process', undefined, true],
    [5, 'process', 'exited', false],
    [6, 'docker', 'out_of_memory', false],
    [6, 'docker', 'docker_unavailable', true],
    [5, 'remote', undefined, true],
    [50, 'remote', 'remote_unreachable', true],
  ] as const)('mayAutoRestart(%i, %s, %s) = %s', (failures, runtime, cause, allowed) => {
    expect(mayAutoRestart(failures, runtime, cause)).toBe(allowed)
  })

  it('stops after 5 failures in a row', () => {
    expect(MAX_CONSECUTIVE_FAILURES).toBe(5)
  })
})

describe('idleExpired', () => {
  it.each([
    ['ttl elapsed', 1000, 500, 1500, false, false, true],
    ['ttl not yet elapsed', 1000, 500, 1499, false, false, false],
    ['ttl 0 is never', 1000, 0, 1_000_000, false, false, false],
    ['busy never idles', 1000, 500, 5000, true, false, false],
    ['pinned never idles', 1000, 500, 5000, false, true, false],
    ['never used', null, 500, 5000, false, false, false],
  ] as const)('%s', (_name, lastUsedAt, ttl, now, busy, pinned, expected) => {
    expect(idleExpired(lastUsedAt, ttl, now, busy, pinned)).toBe(expected)
  })
})

describe('lifecycle', () => {
  it.each([
    ['stopped', 'starting', true],
    ['starting', 'loading', true],
    ['loading', 'running', true],
    ['starting', 'running', true],
    ['running', 'stopping', true],
    ['stopping', 'stopped', true],
    ['running', 'failed', true],
    ['stopped', 'failed', true],
    ['failed', 'starting', true],
    ['failed', 'stopped', true],
    ['starting', 'stopping', true],
    ['stopped', 'running', false],
    ['running', 'starting', false],
    ['running', 'loading', false],
    ['stopping', 'running', false],
    ['failed', 'running', false],
    ['running', 'stopped', false],
  ] as const)('%s → %s allowed: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed)
  })

  it.each([
    [[], 'stopped'],
    [['stopped', 'stopped'], 'stopped'],
    [['failed', 'running'], 'running'],
    [['starting', 'loading'], 'loading'],
    [['failed', 'stopped'], 'failed'],
    [['stopping', 'stopped'], 'stopping'],
  ] as const)('modelState(%j) = %s', (states, expected) => {
    expect(modelState(states)).toBe(expected)
  })
})

describe('BoundedFifo', () => {
  it('rejects pushes past the limit', () => {
    const q = new BoundedFifo<string>(2)
    expect([q.push('a'), q.push('b'), q.push('c')]).toEqual([true, true, false])
    expect(q.length).toBe(2)
  })

  it('a zero limit admits nothing', () => {
    expect(new BoundedFifo<string>(0).push('a')).toBe(false)
  })

  it('shifts oldest first and removes from the middle', () => {
    const q = new BoundedFifo<string>(5)
    for (const x of ['a', 'b', 'c', 'd']) q.push(x)
    expect(q.remove('b')).toBe(true)
    expect(q.remove('b')).toBe(false)
    expect([q.shift(), q.shift()]).toEqual(['a', 'c'])
    expect(q.drain()).toEqual(['d'])
    expect(q.shift()).toBeUndefined()
  })

  it('frees room after removal', () => {
    const q = new BoundedFifo<string>(1)
    q.push('a')
    q.remove('a')
    expect(q.push('b')).toBe(true)
  })
})
