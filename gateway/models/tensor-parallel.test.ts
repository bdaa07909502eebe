import { describe, expect, it } from 'vitest'
import type { ModelDefinition } from '../contract/model.js'
import { tensorParallelConflict, vllmArgs } from './tensor-parallel.js'

type Def = Pick<ModelDefinition, 'engine' | 'gpus' | 'args'>
const vllm = (gpus: Def['gpus'], args: string[] = []): Def => ({ engine: 'vllm', gpus, args })

describe('vllmArgs', () => {
  it.each([
    ['two listed GPUs', vllm([0, 1]), ['--tensor-parallel-size', '2']],
    [
      'four by UUID with pipeline parallel 2',
      vllm(['GPU-a', 'GPU-b', 'GPU-c', 'GPU-d'], ['-pp', '2']),
      ['-pp', '2', '--tensor-parallel-size', '2'],
    ],
    ['one GPU', vllm([1]), []],
    ['all of them (their number is the machine’s)', vllm('all'), []],
    ['a size already given', vllm([0, 1], ['-tp=2']), ['-tp=2']],
    ['llama.cpp', { engine: 'llamacpp', gpus: [0, 1], args: [] } as Def, []],
  ])('%s', (_, def, args) => expect(vllmArgs(def)).toEqual(args))
})

describe('tensorParallelConflict', () => {
  it('is null when the size matches the list, when Cortex derives it, or when no list is given', () => {
    expect(tensorParallelConflict(vllm([0, 1], ['--tensor-parallel-size', '2']))).toBeNull()
    expect(tensorParallelConflict(vllm([0, 1, 2, 3], ['-tp', '2', '--pipeline-parallel-size', '2']))).toBeNull()
    expect(tensorParallelConflict(vllm([0, 1]))).toBeNull()
    expect(tensorParallelConflict(vllm('all', ['-tp', '8']))).toBeNull()
  })

  it('names the cards the flags use against those the list gives, and what to do', () => {
    expect(tensorParallelConflict(vllm([0, 1], ['--tensor-parallel-size=4']))).toBe(
      '--tensor-parallel-size 4 uses 4 GPU(s), but gpus lists 2 ([0, 1]): remove the flag (Cortex derives it from gpus) or list 4 GPUs',
    )
    expect(tensorParallelConflict(vllm([0, 1], ['-tp', '2', '-pp', '2']))).toMatch(
      /^--tensor-parallel-size 2 × --pipeline-parallel-size 2 uses 4/,
    )
  })
})
