import { describe, expect, it } from 'vitest'
import { planPlacement, type Resident } from './eviction.js'

const GiB = 1024 ** 3
const need = (entries: Array<[number, number]>) => new Map(entries.map(([gpu, gib]) => [gpu, gib * GiB]))
const resident = (name: string, gib: Array<[number, number]>, over: Partial<Resident> = {}): Resident => ({
  id: `id-${name}`,
  name,
  bytes: need(gib),
  starting: false,
  busy: false,
  pinned: false,
  lastUsedAt: 0,
  ...over,
})
const gpus = (...free: number[]) => free.map((gib, index) => ({ index, freeBytes: gib * GiB }))
const names = (rs: Resident[]) => rs.map((r) => r.name)

describe('planPlacement', () => {
  it('fits without evicting when there is room', () => {
    expect(planPlacement(need([[0, 10]]), gpus(20), [resident('a', [[0, 30]])])).toEqual({ fits: true, evict: [] })
  })

  it('evicts least recently used idle models first, and only as many as it takes', () => {
    const residents = [
      resident('recent', [[0, 20]], { lastUsedAt: 300 }),
      resident('oldest', [[0, 20]], { lastUsedAt: 100 }),
      resident('older', [[0, 20]], { lastUsedAt: 200 }),
    ]
    const plan = planPlacement(need([[0, 45]]), gpus(10), residents)
    expect(plan.fits).toBe(true)
    expect(names(plan.fits ? plan.evict : [])).toEqual(['oldest', 'older'])
  })

  it('never evicts pinned, busy or starting models, and counts starting ones as reserved', () => {
    const residents = [
      resident('pinned', [[0, 20]], { pinned: true }),
      resident('busy', [[0, 20]], { busy: true }),
      resident('starting', [[0, 8]], { starting: true }),
    ]
    const plan = planPlacement(need([[0, 10]]), gpus(15), residents)
    expect(plan).toEqual({
      fits: false,
      evictable: [],
      shortfalls: [
        {
          gpu: 0,
          needBytes: 10 * GiB,
          freeBytes: 7 * GiB,
          heldBy: [
            { name: 'pinned', bytes: 20 * GiB, why: 'pinned' },
            { name: 'busy', bytes: 20 * GiB, why: 'busy' },
            { name: 'starting', bytes: 8 * GiB, why: 'starting' },
          ],
        },
      ],
    })
  })

  it('leaves models on other GPUs alone and checks every GPU the model needs', () => {
    const residents = [resident('on1', [[1, 30]], { lastUsedAt: 1 }), resident('on0', [[0, 30]], { lastUsedAt: 2 })]
    const plan = planPlacement(need([[0, 20]]), gpus(5, 5), residents)
    expect(names(plan.fits ? plan.evict : [])).toEqual(['on0'])

    const split = planPlacement(
      need([
        [0, 20],
        [1, 20],
      ]),
      gpus(5, 5),
      residents,
    )
    expect(names(split.fits ? split.evict : [])).toEqual(['on1', 'on0'])
  })

  it('does not fit when evicting everything evictable is not enough, and says so per GPU', () => {
    const plan = planPlacement(need([[0, 80]]), gpus(10), [resident('a', [[0, 30]])])
    expect(plan.fits).toBe(false)
    if (plan.fits) return
    expect(names(plan.evictable)).toEqual(['a'])
    expect(plan.shortfalls).toEqual([{ gpu: 0, needBytes: 80 * GiB, freeBytes: 40 * GiB, heldBy: [] }])
  })

  it('treats a GPU it does not know as having no room', () => {
    expect(planPlacement(need([[3, 1]]), gpus(80), []).fits).toBe(false)
  })
})
