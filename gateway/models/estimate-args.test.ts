import { describe, expect, it } from 'vitest'
import { EngineArgsError, LLAMA_CPP_DEFAULTS, parseLlamaCppArgs, parseVllmArgs, VLLM_DEFAULTS } from './estimate-args.js'

describe('parseLlamaCppArgs', () => {
  it('gives llama-server’s defaults for no flags', () => {
    expect(parseLlamaCppArgs([])).toEqual(LLAMA_CPP_DEFAULTS)
  })

  it.each<[string, string[], object]>([
    [
      'short flags',
      ['-c', '8192', '-np', '4', '-ngl', '33', '-fa', 'on'],
      { ctxSize: 8192, parallel: 4, gpuLayers: 33, flashAttn: 'on' },
    ],
    [
      'long flags',
      ['--ctx-size', '4096', '--parallel', '2', '--n-gpu-layers', '10'],
      { ctxSize: 4096, parallel: 2, gpuLayers: 10 },
    ],
    ['--gpu-layers and = forms', ['--gpu-layers=12', '--ctx-size=2048', '-np=3'], { gpuLayers: 12, ctxSize: 2048, parallel: 3 }],
    ['cache types', ['-ctk', 'q8_0', '--cache-type-v', 'Q4_0'], { cacheTypeK: 'q8_0', cacheTypeV: 'q4_0' }],
    ['batch sizes', ['-b', '4096', '--ubatch-size', '1024'], { batch: 4096, ubatch: 1024 }],
    ['-c 0 is the model’s context', ['-c', '0'], { ctxSize: null }],
    ['-np -1 is automatic', ['-np', '-1'], { parallel: null }],
    ['-ngl auto', ['-ngl', 'auto'], { gpuLayers: 'auto' }],
    ['-ngl all', ['-ngl', 'all'], { gpuLayers: 'all' }],
    ['-ngl -1 is auto', ['-ngl', '-1'], { gpuLayers: 'auto' }],
    ['-ngl -2 is all', ['-ngl', '-2'], { gpuLayers: 'all' }],
    ['-ngl 0 keeps every layer on the host', ['-ngl', '0'], { gpuLayers: 0 }],
    ['flash attention spellings', ['-fa', 'enabled', '--flash-attn', 'false'], { flashAttn: 'off' }],
    ['-fa auto', ['-fa', '-1'], { flashAttn: 'auto' }],
    ['unified KV switches', ['-kvu'], { kvUnified: true }],
    ['--no-kv-unified', ['--no-kv-unified'], { kvUnified: false }],
    ['KV in host memory', ['-nkvo'], { kvOffload: false }],
    ['--swa-full', ['--swa-full'], { swaFull: true }],
    ['-fit off', ['--fit', 'off'], { fit: false }],
    ['the last flag wins', ['-c', '4096', '-c', '8192'], { ctxSize: 8192 }],
    ['other flags and their values are left alone', ['--temp', '0.7', '-c', '1024', '--jinja', '-t', '8'], { ctxSize: 1024 }],
  ])('%s', (_, args, expected) => {
    expect(parseLlamaCppArgs(args)).toEqual({ ...LLAMA_CPP_DEFAULTS, ...expected })
  })

  it.each([
    [['-c'], /-c needs a value/],
    [['-c', 'big'], /-c expects an integer ≥ 0, got "big"/],
    [['-np', '0'], /-np 0 is not a slot count/],
    [['-ctk', 'q3_k'], /-ctk expects one of f32, f16, bf16, q8_0/],
    [['-fa', 'maybe'], /-fa expects on, off or auto/],
    [['--fit', 'auto'], /--fit expects on or off/],
    [['-ub', '0'], /-ub expects an integer ≥ 1/],
  ])('rejects %j as llama-server would', (args, message) => {
    const call = () => parseLlamaCppArgs(args)
    expect(call).toThrow(EngineArgsError)
    expect(call).toThrow(message)
  })
})

describe('parseVllmArgs', () => {
  it('gives vLLM’s defaults for no flags', () => {
    expect(parseVllmArgs([])).toEqual(VLLM_DEFAULTS)
  })

  it.each<[string[], object]>([
    [['--gpu-memory-utilization', '0.5'], { gpuMemoryUtilization: 0.5 }],
    [['--max-model-len', '32768', '-tp', '2'], { maxModelLen: 32768, tensorParallel: 2 }],
    [['--max-model-len=32k'], { maxModelLen: 32000 }],
    [['--max-model-len', '32Ki'], { maxModelLen: 32768 }],
    [
      ['--kv-cache-dtype', 'fp8', '--dtype', 'float16', '-q', 'awq'],
      { kvCacheDtype: 'fp8', dtype: 'float16', quantization: 'awq' },
    ],
    [['--pipeline-parallel-size', '2', '--max-num-seqs', '64'], { pipelineParallel: 2, maxNumSeqs: 64 }],
  ])('%j', (args, expected) => {
    expect(parseVllmArgs(args)).toEqual({ ...VLLM_DEFAULTS, ...expected })
  })

  it('rejects a utilization outside (0, 1]', () => {
    expect(() => parseVllmArgs(['--gpu-memory-utilization', '90'])).toThrow(/a fraction in \(0, 1\], got "90"/)
  })
})
