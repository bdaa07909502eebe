import { describe, expect, it } from 'vitest'
import type { GpuSample } from '../../../../gateway/contract/index.js'
import { useStore } from '../../store/index.js'
import { selectModelGpuBytes } from '../../store/selectors.js'

const MiB = 1024 ** 2
const proc = (pid: number, usedBytes: number | null, model: string | null) => ({
  pid,
  processName: 'llama-server',
  usedBytes,
  model: model === null ? null : { id: model, name: model },
})
const gpu = (processes: ReturnType<typeof proc>[] | null) => ({ processes }) as unknown as GpuSample
const withGpus = (...gpus: GpuSample[]) => {
  useStore.setState({
    samples: [
      { at: 1, gpus: [gpu([proc(1, 999 * MiB, 'a')])], host: null },
      { at: 2, gpus, host: null },
    ],
  })
  return useStore.getState()
}

describe('selectModelGpuBytes', () => {
  it('is unknown with no reading, or when no GPU could list its processes', () => {
    expect(selectModelGpuBytes(useStore.getState(), 'a')).toBeNull()
    expect(selectModelGpuBytes(withGpus(gpu(null), gpu(null)), 'a')).toBeNull()
  })

  it('adds the model’s processes over every GPU of the latest reading, and is 0 when none is its own', () => {
    const s = withGpus(
      gpu([proc(1, 100 * MiB, 'a'), proc(2, 50 * MiB, 'b')]),
      gpu(null),
      gpu([proc(3, 30 * MiB, 'a'), proc(4, null, 'a')]),
    )
    expect(selectModelGpuBytes(s, 'a')).toBe(130 * MiB)
    expect(selectModelGpuBytes(s, 'c')).toBe(0)
  })
})
