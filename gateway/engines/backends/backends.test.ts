import { describe, expect, it } from 'vitest'
import type { ModelDefinition } from '../../contract/index.js'
import { modelDefinition } from '../../contract/model.test-support.js'
import { llamacppPlan } from './llamacpp.js'
import { vllmPlan } from './vllm.js'

const def = (over: Partial<ModelDefinition> = {}): ModelDefinition =>
  modelDefinition({
    name: 'qwen2.5-7b',
    source: '/models/qwen.gguf',
    queue: { size: 32, timeoutMs: 60_000 },
    startTimeoutMs: 120_000,
    ...over,
  })

const BASE = ['-m', '/models/qwen.gguf', '--host', '127.0.0.1', '--port', '41000']

describe('llamacppPlan', () => {
  it.each([
    ['plain', {}, [...BASE, '--alias', 'qwen2.5-7b', '--metrics'], {}],
    // llama-server would report the alphabetically first alias as the model: only the name is passed.
    ['aliases are not passed', { aliases: ['qwen', 'q7'] }, [...BASE, '--alias', 'qwen2.5-7b', '--metrics'], {}],
    [
      'user args last, ${PORT} expanded',
      { args: ['-c', '8192', '--slot-save-path', '/tmp/${PORT}'] },
      [...BASE, '--alias', 'qwen2.5-7b', '--metrics', '-c', '8192', '--slot-save-path', '/tmp/41000'],
      {},
    ],
    [
      'GPU list',
      { gpus: [0, 'GPU-abc'] },
      [...BASE, '--alias', 'qwen2.5-7b', '--metrics'],
      { CUDA_VISIBLE_DEVICES: '0,GPU-abc' },
    ],
    ['no GPUs', { gpus: 'none' }, [...BASE, '--alias', 'qwen2.5-7b', '--metrics'], { CUDA_VISIBLE_DEVICES: '' }],
    [
      'user env kept',
      { env: { LLAMA_LOG_COLORS: 'off' } },
      [...BASE, '--alias', 'qwen2.5-7b', '--metrics'],
      { LLAMA_LOG_COLORS: 'off' },
    ],
  ] as const)('%s', (_name, over, args, env) => {
    expect(llamacppPlan(def(over as Partial<ModelDefinition>), 41000, '/opt/llama-server')).toEqual({
      command: '/opt/llama-server',
      args,
      env,
    })
  })

  it('refuses a definition without a source', () => {
    expect(() => llamacppPlan(def({ source: undefined }), 1, '/bin/x')).toThrow(/source/)
  })
})

describe('vllmPlan', () => {
  it.each([
    [
      'name only',
      { source: 'Qwen/Qwen2.5-7B-Instruct' },
      ['serve', 'Qwen/Qwen2.5-7B-Instruct', '--host', '127.0.0.1', '--port', '8001', '--served-model-name', 'qwen2.5-7b'],
      {},
    ],
    [
      'aliases as extra served names, then user args',
      { source: '/models/qwen', aliases: ['qwen'], args: ['--max-model-len', '8192'], gpus: [1] },
      [
        'serve',
        '/models/qwen',
        '--host',
        '127.0.0.1',
        '--port',
        '8001',
        '--served-model-name',
        'qwen2.5-7b',
        'qwen',
        '--max-model-len',
        '8192',
      ],
      { CUDA_VISIBLE_DEVICES: '1' },
    ],
  ] as const)('%s', (_name, over, args, env) => {
    expect(vllmPlan(def({ engine: 'vllm', ...(over as Partial<ModelDefinition>) }), 8001, 'vllm')).toEqual({
      command: 'vllm',
      args,
      env,
    })
  })
})
