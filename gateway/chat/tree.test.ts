import { describe, expect, it } from 'vitest'
import { decodeTokensPerSecond, newestId, pathTo, siblings } from './tree.js'

const m = (id: string, parentId: string | null) => ({ id, parentId })

describe('decodeTokensPerSecond', () => {
  it.each([
    // completion tokens ÷ (total − TTFT), per second
    [{ completionTokens: 100, totalMs: 1100, ttftMs: 100 }, 100],
    [{ completionTokens: 3, totalMs: 62.5, ttftMs: 12.5 }, 60],
    [{ completionTokens: 1, totalMs: 50, ttftMs: 50 }, null],
    [{ completionTokens: 5, totalMs: 40, ttftMs: 50 }, null],
    [{ completionTokens: null, totalMs: 100, ttftMs: 10 }, null],
    [{ completionTokens: 10, totalMs: 100, ttftMs: null }, null],
    [{ completionTokens: 10, totalMs: null, ttftMs: 10 }, null],
  ])('%j → %j tok/s', (figures, expected) => {
    expect(decodeTokensPerSecond({ promptTokens: null, ...figures })).toBe(expected)
  })
})

describe('the message tree', () => {
  const tree = [m('q1', null), m('a1', 'q1'), m('q2', 'a1'), m('q2b', 'a1'), m('a2', 'q2'), m('q1b', null)]

  it('walks from the root to a message, whatever the order the messages are in', () => {
    expect(pathTo(tree, 'a2').map((x) => x.id)).toEqual(['q1', 'a1', 'q2', 'a2'])
    expect(pathTo([...tree].reverse(), 'q2b').map((x) => x.id)).toEqual(['q1', 'a1', 'q2b'])
    expect(pathTo(tree, 'q1b').map((x) => x.id)).toEqual(['q1b'])
    expect(pathTo(tree, 'nope')).toEqual([])
  })

  it('stops at a cycle instead of looping', () => {
    expect(pathTo([m('x', 'y'), m('y', 'x')], 'x').map((n) => n.id)).toEqual(['y', 'x'])
  })

  it('lists the branches under a message, and the first messages under null', () => {
    expect(siblings(tree, 'a1').map((x) => x.id)).toEqual(['q2', 'q2b'])
    expect(siblings(tree, null).map((x) => x.id)).toEqual(['q1', 'q1b'])
    expect(newestId(tree)).toBe('q1b')
    expect(newestId([])).toBeNull()
  })
})
