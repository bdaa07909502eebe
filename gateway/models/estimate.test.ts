import { describe, expect, it } from 'vitest'
import { encodeGguf, tinyLlamaSpec, type GgufSpec, type TinyLlamaOptions } from '../../test/support/gguf-writer.js'
import { CUDA_CONTEXT_BYTES, estimateLlamaCpp, POOL_BYTES } from './estimate.js'
import { parseGgufHeader } from './gguf-parse.js'

const F32 = 4

function parsed(spec: GgufSpec) {
  const buf = encodeGguf(spec)
  return parseGgufHeader(buf, true, buf.length)
}
const tiny = (opts: TinyLlamaOptions = {}) => {
  const model = tinyLlamaSpec(opts)
  return { ...model, gguf: parsed(model.spec) }
}

// The default tiny llama: n_embd 64, 2 layers, 4 heads of 16, 2 KV heads, n_ff 128, all F32, 374 tokens.
const { gguf: model, vocabSize: V } = tiny()
const E = 64
const FF = 128
const LAYER = (E + E * E + E * 32 + E * 32 + E * E + E + 3 * E * FF) * F32
const OUTPUT = (E * V + E) * F32
const EMBEDDING = E * V * F32
/** K and V of one layer for one cell: 2 KV heads × 16, F16. */
const CELL = (32 + 32) * 2

describe('estimateLlamaCpp: what sits on the GPU', () => {
  it.each([
    // The input embedding never leaves host memory.
    ['every layer', 'all', 2 * LAYER + OUTPUT, 2, EMBEDDING],
    ['the output layer only', 1, OUTPUT, 0, 2 * LAYER + EMBEDDING],
    ['the output layer and the last repeating layer', 2, LAYER + OUTPUT, 1, LAYER + EMBEDDING],
    ['nothing', 0, 0, 0, 2 * LAYER + OUTPUT + EMBEDDING],
    ['every layer (more asked than there are)', 99, 2 * LAYER + OUTPUT, 2, EMBEDDING],
  ] as const)('%s on the GPU with -ngl %s', (_, gpuLayers, weights, kvLayers, hostWeights) => {
    const e = estimateLlamaCpp(model, { ctxSize: 4096, parallel: 1, gpuLayers })
    expect(e.weightsBytes).toBe(weights)
    expect(e.kvCacheBytes).toBe(kvLayers * 4096 * CELL)
    expect(e.host.kvCacheBytes).toBe((2 - kvLayers) * 4096 * CELL)
    expect(e.host.weightsBytes).toBe(hostWeights)
  })

  it('copies a tied embedding to the GPU for the output layer', () => {
    const { spec } = tinyLlamaSpec()
    const tied = parsed({ ...spec, tensors: spec.tensors!.filter((t) => t.name !== 'output.weight') })
    const e = estimateLlamaCpp(tied, { ctxSize: 4096, parallel: 1 })
    expect(e.weightsBytes).toBe(2 * LAYER + E * F32 + EMBEDDING)
    expect(e.host.weightsBytes).toBe(EMBEDDING)
    expect(e.notes).toContain('tied embeddings: llama.cpp keeps a second copy of token_embd for the output layer')
  })

  it('keeps the KV cache in host memory with -nkvo', () => {
    const e = estimateLlamaCpp(model, { ctxSize: 4096, parallel: 1, kvOffload: false })
    expect([e.kvCacheBytes, e.host.kvCacheBytes]).toEqual([0, 2 * 4096 * CELL])
  })

  it.each([
    ['f16', 'f16', 2 * 4096 * 64 * 2],
    ['q8_0', 'q8_0', 2 * 4096 * 64 * (34 / 32)],
    ['q4_0', 'q4_0', 2 * 4096 * 64 * (18 / 32)],
    ['q8_0', 'f16', 2 * 4096 * (32 * (34 / 32) + 32 * 2)],
    ['f32', 'f32', 2 * 4096 * 64 * 4],
  ])('sizes a %s K / %s V cache by its ggml type', (cacheTypeK, cacheTypeV, bytes) => {
    expect(estimateLlamaCpp(model, { ctxSize: 4096, parallel: 1, cacheTypeK, cacheTypeV }).kvCacheBytes).toBe(bytes)
  })

  it.each<[string, TinyLlamaOptions, number]>([
    ['MHA', { embeddingLength: 128, headCount: 8, headCountKv: 8 }, 128],
    ['MQA', { embeddingLength: 256, headCount: 4, headCountKv: 1 }, 64],
    ['GQA, 3 layers', { embeddingLength: 96, headCount: 6, headCountKv: 2, blockCount: 3 }, 32],
  ])('%s: KV = layers × context × (K + V) × 2 bytes', (_, opts, kvWidth) => {
    const layers = opts.blockCount ?? 2
    expect(estimateLlamaCpp(tiny(opts).gguf, { ctxSize: 2048, parallel: 1 }).kvCacheBytes).toBe(layers * 2048 * 2 * kvWidth * 2)
  })
})

describe('estimateLlamaCpp: the context llama-server resolves', () => {
  it.each([
    ['-c 4096 -np 1', { ctxSize: 4096, parallel: 1 }, { nCtx: 4096, nCtxSeq: 4096, slots: 1, unified: false }],
    [
      '-c 4096 -np 4: slots share the context',
      { ctxSize: 4096, parallel: 4 },
      { nCtx: 4096, nCtxSeq: 1024, slots: 4, unified: false },
    ],
    ['-c 4096 -np 3: each slot padded to 256', { ctxSize: 4096, parallel: 3 }, { nCtx: 4608, nCtxSeq: 1536, slots: 3 }],
    ['-c 1000: padded to 256', { ctxSize: 1000, parallel: 1 }, { nCtx: 1024, nCtxSeq: 1024 }],
    ['no flags: 4 slots, unified, trained context each', {}, { nCtx: 8192, nCtxSeq: 8192, slots: 4, unified: true }],
    ['-np 2 without -c: trained context per slot', { parallel: 2 }, { nCtx: 4096, nCtxSeq: 2048, unified: false }],
    ['-fit off without -c: the trained context in all', { fit: false }, { nCtx: 2048, nCtxSeq: 2048, unified: true }],
    ['-kvu with -np 4', { ctxSize: 4096, parallel: 4, kvUnified: true }, { nCtx: 4096, nCtxSeq: 4096, unified: true }],
    ['-ub 128', { ctxSize: 4096, parallel: 1, ubatch: 128 }, { ubatch: 128 }],
    ['-b 256 caps -ub', { ctxSize: 4096, parallel: 1, batch: 256 }, { ubatch: 256 }],
  ])('%s', (_, settings, expected) => {
    expect(estimateLlamaCpp(model, settings).context).toMatchObject(expected)
  })
})

describe('estimateLlamaCpp: compute buffer and totals', () => {
  it('is the KQ mask plus the feed-forward stage’s live rows at full offload', () => {
    const e = estimateLlamaCpp(model, { ctxSize: 4096, parallel: 1, flashAttn: 'on' })
    const mask = 4096 * 512 * 2
    expect(e.computeBytes).toBe(mask + 512 * (3 * E + 3 * FF) * F32)
    expect(e.overheadBytes).toBe(CUDA_CONTEXT_BYTES + POOL_BYTES.floatWeights)
    expect(e.totalBytes).toBe(e.weightsBytes + e.kvCacheBytes + e.computeBytes + e.overheadBytes)
  })

  it('holds KQ (context × tokens × heads, F32) without flash attention', () => {
    const e = estimateLlamaCpp(model, { ctxSize: 4096, parallel: 1, flashAttn: 'off' })
    expect(e.computeBytes).toBe(4096 * 512 * 4 + 4096 * 512 * 4 * F32 + 512 * (4 * E + 2 * 32) * F32)
    expect(e.overheadBytes).toBe(CUDA_CONTEXT_BYTES + POOL_BYTES.noFlashAttn)
  })

  it('adds one host layer’s weights when layers stay on the host (op offload copies them)', () => {
    const full = estimateLlamaCpp(model, { ctxSize: 4096, parallel: 1 })
    expect(estimateLlamaCpp(model, { ctxSize: 4096, parallel: 1, gpuLayers: 1 }).computeBytes).toBe(full.computeBytes + LAYER)
  })

  it('warns that llama-server refuses a quantized V cache without flash attention', () => {
    const e = estimateLlamaCpp(model, { ctxSize: 4096, flashAttn: 'off', cacheTypeV: 'q8_0' })
    expect(e.notes).toContain('llama-server refuses a quantized V cache without flash attention (-fa off)')
  })

  it('splits layers over GPUs in proportion to their free memory, the output layer on the last', () => {
    const e = estimateLlamaCpp(model, { ctxSize: 4096, parallel: 1 }, { gpuFreeBytes: [40e9, 40e9] })
    expect(e.perGpu?.map((g) => [g.weightsBytes, g.kvCacheBytes])).toEqual([
      [2 * LAYER, 2 * 4096 * CELL],
      [OUTPUT, 0],
    ])
    expect(e.weightsBytes).toBe(2 * LAYER + OUTPUT)
    expect(e.overheadBytes).toBe(2 * (CUDA_CONTEXT_BYTES + POOL_BYTES.floatWeights))
  })

  it('gives one GPU no perGpu breakdown', () => {
    expect(estimateLlamaCpp(model).perGpu).toBeUndefined()
  })
})
