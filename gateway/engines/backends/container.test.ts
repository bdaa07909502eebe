import { describe, expect, it } from 'vitest'
import type { ModelDefinition } from '../../contract/index.js'
import { modelDefinition } from '../../contract/model.test-support.js'
import { bindPort, containerPlan, deviceRequests, planHash, type ContainerPlan } from './container.js'

const HF = '/home/ada/.cache/huggingface'
const def = (over: Partial<ModelDefinition> = {}): ModelDefinition =>
  modelDefinition({ name: 'qwen2.5-7b', runtime: 'docker', source: '/data/models/qwen.gguf', gpus: 'all', ...over })
const plan = (over: Partial<ModelDefinition>, hasGpus = true) => containerPlan(def(over), { hasGpus, hfCache: HF })

const GGUF_MOUNT = { source: '/data/models/qwen.gguf', target: '/models/qwen.gguf', readOnly: true }
const llamaCmd = (host: string, ...args: string[]) => [
  '-m',
  '/models/qwen.gguf',
  '--host',
  host,
  '--port',
  '${PORT}',
  '--alias',
  'qwen2.5-7b',
  '--metrics',
  ...args,
]
const llama = (over: Partial<ContainerPlan>): ContainerPlan => ({
  image: 'ghcr.io/ggml-org/llama.cpp:server-cuda',
  cmd: llamaCmd('127.0.0.1'),
  env: {},
  mounts: [GGUF_MOUNT],
  network: 'host',
  gpus: 'all',
  ipcHost: false,
  healthPath: '/health',
  ...over,
})

describe('containerPlan › llamacpp', () => {
  it.each<[string, Partial<ModelDefinition>, boolean, ContainerPlan]>([
    ['all GPUs on a GPU machine: the CUDA image', {}, true, llama({})],
    [
      'all GPUs on a machine without any: the CPU image',
      {},
      false,
      llama({ image: 'ghcr.io/ggml-org/llama.cpp:server', gpus: 'none' }),
    ],
    ['no GPUs: the CPU image', { gpus: 'none' }, true, llama({ image: 'ghcr.io/ggml-org/llama.cpp:server', gpus: 'none' })],
    ['an empty GPU list is none', { gpus: [] }, true, llama({ image: 'ghcr.io/ggml-org/llama.cpp:server', gpus: 'none' })],
    ['indexes and UUIDs pass through as device ids', { gpus: [0, 'GPU-abc'] }, true, llama({ gpus: ['0', 'GPU-abc'] })],
    ['the image overrides the default', { image: 'my/llama:b5000' }, true, llama({ image: 'my/llama:b5000' })],
    [
      // llama-server would answer with the alphabetically first alias as the model: only the name is passed.
      'aliases are not passed; user args go last with ${PORT} kept literal',
      { aliases: ['qwen'], args: ['-c', '8192', '--slot-save-path', '/tmp/${PORT}'] },
      true,
      llama({ cmd: llamaCmd('127.0.0.1', '-c', '8192', '--slot-save-path', '/tmp/${PORT}') }),
    ],
    [
      'bridge networking binds every interface inside',
      { network: 'bridge' },
      true,
      llama({ network: 'bridge', cmd: llamaCmd('0.0.0.0') }),
    ],
    ['user env kept', { env: { LLAMA_ARG_THREADS: '4' } }, true, llama({ env: { LLAMA_ARG_THREADS: '4' } })],
  ])('%s', (_name, over, hasGpus, expected) => {
    expect(plan(over, hasGpus)).toEqual(expected)
  })

  it('refuses a definition without a source', () => {
    expect(() => plan({ source: undefined })).toThrow(/source/)
  })
})

const vllmCmd = (model: string, host = '127.0.0.1') => [
  '--model',
  model,
  '--served-model-name',
  'qwen2.5-7b',
  '--host',
  host,
  '--port',
  '${PORT}',
]
const HF_MOUNT = { source: HF, target: '/root/.cache/huggingface', readOnly: false }

describe('containerPlan › vllm', () => {
  const vllm = (over: Partial<ContainerPlan>): ContainerPlan => ({
    image: 'vllm/vllm-openai:latest',
    cmd: vllmCmd('Qwen/Qwen2.5-7B-Instruct'),
    env: {},
    mounts: [HF_MOUNT],
    network: 'host',
    gpus: 'all',
    ipcHost: true,
    healthPath: '/health',
    ...over,
  })

  it.each<[string, Partial<ModelDefinition>, ContainerPlan]>([
    ['a Hugging Face repo id, with the HF cache mounted', { source: 'Qwen/Qwen2.5-7B-Instruct' }, vllm({})],
    [
      'a local directory is mounted read-only and served from there',
      { source: '/data/qwen-awq' },
      vllm({
        cmd: vllmCmd('/models/qwen-awq'),
        mounts: [HF_MOUNT, { source: '/data/qwen-awq', target: '/models/qwen-awq', readOnly: true }],
      }),
    ],
    [
      'aliases as extra served names, user args last',
      { source: 'Qwen/Qwen2.5-7B-Instruct', aliases: ['qwen', 'q7'], args: ['--max-model-len', '8192'] },
      vllm({
        cmd: [
          '--model',
          'Qwen/Qwen2.5-7B-Instruct',
          '--served-model-name',
          'qwen2.5-7b',
          'qwen',
          'q7',
          '--host',
          '127.0.0.1',
          '--port',
          '${PORT}',
          '--max-model-len',
          '8192',
        ],
      }),
    ],
    [
      'bridge networking, an image tag, one GPU',
      { source: 'Qwen/Qwen2.5-7B-Instruct', network: 'bridge', image: 'vllm/vllm-openai:v0.11.0', gpus: [1] },
      vllm({
        cmd: vllmCmd('Qwen/Qwen2.5-7B-Instruct', '0.0.0.0'),
        network: 'bridge',
        image: 'vllm/vllm-openai:v0.11.0',
        gpus: ['1'],
      }),
    ],
  ])('%s', (_name, over, expected) => {
    expect(plan({ engine: 'vllm', ...over })).toEqual(expected)
  })

  it('never carries HF_TOKEN: it is added at create time, outside the plan and its hash', () => {
    expect(JSON.stringify(plan({ engine: 'vllm', source: 'org/m' }))).not.toContain('HF_TOKEN')
  })
})

describe('containerPlan › openai', () => {
  it('runs the image with the user args and probes /v1/models', () => {
    expect(
      plan({ engine: 'openai', source: undefined, image: 'ghcr.io/acme/server:1', args: ['--port', '${PORT}'], gpus: 'none' }),
    ).toEqual({
      image: 'ghcr.io/acme/server:1',
      cmd: ['--port', '${PORT}'],
      env: {},
      mounts: [],
      network: 'host',
      gpus: 'none',
      ipcHost: false,
      healthPath: '/v1/models',
    })
  })

  it('refuses a definition without an image', () => {
    expect(() => plan({ engine: 'openai', source: undefined })).toThrow(/needs an image/)
  })
})

describe('planHash', () => {
  const p = plan({})

  it('is the sha256 of the plan, the same whatever the key order', () => {
    const reordered = Object.fromEntries(Object.entries(p).reverse()) as unknown as ContainerPlan
    expect(planHash(p)).toMatch(/^[0-9a-f]{64}$/)
    expect(planHash(reordered)).toBe(planHash(p))
  })

  it.each<[string, Partial<ModelDefinition>]>([
    ['args', { args: ['-c', '4096'] }],
    ['image', { image: 'my/llama:1' }],
    ['GPUs', { gpus: [0] }],
    ['env', { env: { A: '1' } }],
    ['source', { source: '/data/models/other.gguf' }],
  ])('changes with the %s', (_name, over) => {
    expect(planHash(plan(over))).not.toBe(planHash(p))
  })
})

describe('bindPort', () => {
  it("puts the port in Cortex's flags and the user's args, and changes nothing else", () => {
    const p = plan({ args: ['--slot-save-path', '/tmp/${PORT}'] })
    expect(bindPort(p, 41000)).toEqual({
      ...p,
      cmd: llamaCmd('127.0.0.1', '--slot-save-path', '/tmp/41000').map((a) => a.replace('${PORT}', '41000')),
    })
    expect(p.cmd).toContain('${PORT}')
  })
})

describe('deviceRequests', () => {
  it.each<[ContainerPlan['gpus'], ReturnType<typeof deviceRequests>]>([
    ['all', [{ Count: -1, Capabilities: [['gpu']] }]],
    [['0', 'GPU-abc'], [{ DeviceIDs: ['0', 'GPU-abc'], Capabilities: [['gpu']] }]],
    ['none', []],
  ])('%j', (gpus, expected) => {
    expect(deviceRequests(gpus)).toEqual(expected)
  })
})
