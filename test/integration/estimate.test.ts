import path from 'node:path'
import { describe, expect, inject, it } from 'vitest'
import { estimateLlamaCpp } from '../../gateway/models/estimate.js'
import { readGguf } from '../../gateway/models/gguf.js'

const MiB = 1024 * 1024

// The vocab-only GGUFs of the llama.cpp source: real metadata, no tensors, so no weights; the KV cache follows from
// the hyperparameters. Known figures: Llama-2-7B at 4096 tokens holds 2 GiB of F16 KV, Llama-3-8B at 8192 1 GiB
// (also measured: ESTIMATE.md, run b1).
const vocab = (name: string) => path.join(inject('llamaSrc'), 'models', `ggml-vocab-${name}.gguf`)

describe('estimateLlamaCpp on the vocab-only GGUFs of llama.cpp', () => {
  it.each([
    ['llama-spm', { ctxSize: 4096 }, 2048],
    ['llama-bpe', { ctxSize: 8192, parallel: 1 }, 1024],
    ['falcon', { ctxSize: 2048, parallel: 1 }, 16], // 71 heads of 64, one KV head
    ['gpt-2', { ctxSize: 1024, parallel: 1 }, 36], // no head_count_kv: as many as heads
    ['starcoder', { ctxSize: 16384, parallel: 2 }, 480],
    // 25 sliding-window layers (window 1024 + one batch = 1536 cells, 8 KV heads of 256) and 5 full ones (2 of 512).
    ['gemma-4', { ctxSize: 8192, parallel: 1 }, (25 * 1536 * (2 * 8 * 256) * 2) / MiB + (5 * 8192 * (2 * 2 * 512) * 2) / MiB],
    ['qwen2', {}, 65536], // no flags: 4 slots × the trained 32768 tokens
    ['bert-bge', {}, 0], // an encoder keeps no cache
  ])('%s: %o → %d MiB of KV cache', async (name, settings, kvMiB) => {
    const e = estimateLlamaCpp(await readGguf(vocab(name)), settings)
    expect(e.weightsBytes).toBe(0)
    expect(e.kvCacheBytes / MiB).toBe(kvMiB)
  })
})
