import { describe, expect, it, vi } from 'vitest'
import { memoLast, memoryParts, windowed } from './series.js'
import { GIB, gpu, MIB, sample } from './test-samples.js'

describe('windowed', () => {
  it('keeps the samples of the window before the newest, one aligned x for every GPU and the host', () => {
    const samples = [
      sample(0, [gpu(0, { powerDrawW: 1 })]),
      sample(10_000, [gpu(0, { powerDrawW: 2 }), gpu(1, { powerDrawW: 20 })]),
      sample(20_000, [gpu(0, { powerDrawW: 3 }), gpu(1, { powerDrawW: 30, memoryUsedBytes: null })], null),
    ]
    const w = windowed(samples, 15_000)
    expect(w.range).toEqual([5_000, 20_000])
    expect(w.gpus.get(0)!.x).toEqual([10_000, 20_000])
    expect(w.gpus.get(0)!.power).toEqual([2, 3])
    expect(w.gpus.get(1)!.power).toEqual([20, 30])
    expect(w.gpus.get(1)!.memoryGiB).toEqual([2707 / 1024, null])
    expect(w.host.cpu).toEqual([10, null])
    expect(w.host.memoryGiB).toEqual([2, null])
  })

  it('leaves a gap (null) where a GPU is missing from a sample', () => {
    const w = windowed([sample(0, []), sample(2000, [gpu(0)])], 60_000)
    expect(w.gpus.get(0)!.utilization).toEqual([null, 0])
  })

  it('has empty series with no samples', () => {
    const w = windowed([], 60_000)
    expect(w.gpus.size).toBe(0)
    expect(w.host.x).toEqual([])
  })
})

describe('memoLast', () => {
  it('answers the same inputs with the same result, computed once', () => {
    const fn = vi.fn((a: number[], n: number) => a.length + n)
    const memo = memoLast(fn)
    const samples = [1, 2]
    expect(memo(samples, 1)).toBe(3)
    expect(memo(samples, 1)).toBe(3)
    expect(fn).toHaveBeenCalledTimes(1)
    memo([1, 2], 1)
    memo([1, 2], 2)
    expect(fn).toHaveBeenCalledTimes(3)
  })
})

describe('memoryParts', () => {
  const model = (name: string) => ({ id: name, name })
  it('splits the used memory by model, busiest first, and calls the rest other', () => {
    const parts = memoryParts(
      gpu(0, {
        memoryUsedBytes: 10 * GIB,
        processes: [
          { pid: 1, processName: 'llama-server', usedBytes: 2 * GIB, model: model('small') },
          { pid: 2, processName: 'python', usedBytes: 5 * GIB, model: model('big') },
          { pid: 3, processName: 'python', usedBytes: 1 * GIB, model: model('big') },
          { pid: 4, processName: 'Xorg', usedBytes: 512 * MIB, model: null },
        ],
      }),
    )
    expect(parts).toEqual([
      { label: 'big', bytes: 6 * GIB, model: true },
      { label: 'small', bytes: 2 * GIB, model: true },
      { label: 'other', bytes: 2 * GIB, model: false },
    ])
  })

  it('is all other without a process list, and nothing when the used memory is unknown', () => {
    expect(memoryParts(gpu(0, { processes: null }))).toEqual([{ label: 'other', bytes: 2707 * MIB, model: false }])
    expect(memoryParts(gpu(0, { memoryUsedBytes: null }))).toEqual([])
    expect(memoryParts(gpu(0, { memoryUsedBytes: 0 }))).toEqual([])
  })
})
