import { describe, expect, it } from 'vitest'
import { switchPlan, type SwitchCandidate } from './switch.js'

const model = (name: string, o: Partial<SwitchCandidate> = {}): SwitchCandidate => ({
  id: `id-${name}`,
  name,
  pinned: false,
  gpus: 'all',
  state: 'running',
  ...o,
})

describe('switchPlan', () => {
  it('on a machine without GPUs, stops every other active model and keeps the pinned one', () => {
    const target = model('b', { state: 'stopped' })
    const others = [model('a'), model('c', { state: 'loading' }), model('p', { pinned: true }), model('s', { state: 'stopped' })]
    expect(switchPlan(target, [target, ...others], false)).toEqual({ stop: ['id-a', 'id-c'], keptPinned: ['p'] })
  })

  it('with GPUs, stops only the models whose GPU lists overlap the target’s; `all` overlaps everything', () => {
    const target = model('t', { gpus: [1], state: 'stopped' })
    const others = [
      model('on0', { gpus: [0] }),
      model('on1', { gpus: [0, 1] }),
      model('everywhere', { gpus: 'all' }),
      model('cpu', { gpus: 'none' }),
    ]
    expect(switchPlan(target, others, true).stop).toEqual(['id-on1', 'id-everywhere'])
    expect(switchPlan(model('t', { gpus: 'all' }), others, true).stop).toEqual(['id-on0', 'id-on1', 'id-everywhere'])
  })

  it('GPU lists compare by value whether given as numbers or strings', () => {
    expect(switchPlan(model('t', { gpus: ['1'] }), [model('x', { gpus: [1] })], true).stop).toEqual(['id-x'])
  })

  it('CPU-only models share the CPU with each other and no GPU with anyone', () => {
    const others = [model('gpu', { gpus: [0] }), model('cpu', { gpus: 'none' })]
    expect(switchPlan(model('t', { gpus: 'none' }), others, true).stop).toEqual(['id-cpu'])
  })

  it('a swap group on the target stops only the others of that group, whatever their GPUs', () => {
    const target = model('t', { swapGroup: 'chat', gpus: [0] })
    const others = [model('a', { swapGroup: 'chat', gpus: [1] }), model('b', { gpus: [0] }), model('c', { swapGroup: 'code' })]
    expect(switchPlan(target, others, true).stop).toEqual(['id-a'])
    expect(switchPlan(target, others, false).stop).toEqual(['id-a'])
  })

  it('never stops the target itself, nor a model already stopping, stopped or failed', () => {
    const target = model('t')
    const others = [target, model('x', { state: 'stopping' }), model('y', { state: 'failed' }), model('z', { state: 'stopped' })]
    expect(switchPlan(target, others, false)).toEqual({ stop: [], keptPinned: [] })
  })
})
