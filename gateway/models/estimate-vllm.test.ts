import { describe, expect, it } from 'vitest'
import { estimateVllm, VLLM_OVERHEAD_BYTES, type HfConfig } from './estimate-vllm.js'

const GiB = 1024 ** 3

// The shapes of public config.json files (only the fields the estimate reads).
const llama31_8b: HfConfig = {
  architectures: ['LlamaForCausalLM'],
  hidden_size: 4096,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  intermediate_size: 14336,
  vocab_size: 128256,
  max_position_embeddings: 131072,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
}
const qwen25_7b: HfConfig = {
  model_type: 'qwen2',
  hidden_size: 3584,
  num_hidden_layers: 28,
  num_attention_heads: 28,
  num_key_value_heads: 4,
  intermediate_size: 18944,
  vocab_size: 152064,
  max_position_embeddings: 32768,
  tie_word_embeddings: false,
}
const mixtral: HfConfig = {
  hidden_size: 4096,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  intermediate_size: 14336,
  num_local_experts: 8,
  num_experts_per_tok: 2,
  vocab_size: 32000,
  max_position_embeddings: 32768,
}
const llama32_1b: HfConfig = {
  ...llama31_8b,
  hidden_size: 2048,
  num_hidden_layers: 16,
  intermediate_size: 8192,
  head_dim: 64,
  tie_word_embeddings: true,
}

describe('estimateVllm', () => {
  it.each([
    // Published parameter counts: Llama-3.1-8B 8,030,261,248; Mixtral-8x7B 46,702,792,704; Llama-3.2-1B 1,235,814,400.
    ['Llama-3.1-8B', llama31_8b, 8_030_261_248],
    ['Mixtral-8x7B', mixtral, 46_702_792_704],
    ['Llama-3.2-1B (tied embeddings)', llama32_1b, 1_235_814_400],
    // Qwen2.5-7B: 7,615,616,512 with the q/k/v biases qwen2 always has.
    ['Qwen2.5-7B (q/k/v biases)', qwen25_7b, 7_615_616_512],
  ])('counts the parameters of %s', (_, config, parameters) => {
    expect(estimateVllm(config).parameters).toBe(parameters)
  })

  it('needs bf16 weights + one max-model-len sequence of KV + activations + overhead', () => {
    const e = estimateVllm(llama31_8b, { maxModelLen: 8192 })
    expect(e.weightsBytes).toBe(2 * 8_030_261_248)
    // 32 layers × 8 KV heads × 128 × (K + V) × 2 bytes = 128 KiB per token.
    expect(e.kvBytesPerToken).toBe(131072)
    expect(e.kvCacheBytes).toBe(8192 * 131072)
    expect(e.needBytes).toBe(e.weightsBytes + e.kvCacheBytes + e.computeBytes + VLLM_OVERHEAD_BYTES)
    expect(e.reservationBytes).toBeNull()
  })

  it('reserves gpu-memory-utilization × the card and gives the rest of it to KV', () => {
    const card = 80 * GiB
    const e = estimateVllm(llama31_8b, { maxModelLen: 8192, gpuMemoryUtilization: 0.9 }, { cardBytes: card })
    expect(e.reservationBytes).toBe(Math.floor(0.9 * card))
    const left = e.reservationBytes! - e.weightsBytes - e.computeBytes - e.overheadBytes
    expect(e.kvCapacityTokens).toBe(Math.floor(left / 131072))
    expect(e.fits).toBe(true)
  })

  it('does not fit when the reservation cannot hold one full sequence', () => {
    const e = estimateVllm(llama31_8b, { gpuMemoryUtilization: 0.3 }, { cardBytes: 24 * GiB })
    expect(e.maxModelLen).toBe(131072)
    expect(e.fits).toBe(false)
  })

  it('splits weights and KV over tensor-parallel cards', () => {
    const one = estimateVllm(llama31_8b, { maxModelLen: 8192 })
    const two = estimateVllm(llama31_8b, { maxModelLen: 8192, tensorParallel: 2 })
    expect(two.gpus).toBe(2)
    expect(two.weightsBytes).toBe(one.weightsBytes / 2)
    expect(two.kvCacheBytes).toBe(one.kvCacheBytes / 2)
  })

  it.each([
    [
      'AWQ 4-bit, groups of 128, with zeros',
      { quant_method: 'awq', bits: 4, group_size: 128, zero_point: true },
      (4 + 20 / 128) / 8,
    ],
    ['GPTQ 4-bit symmetric', { quant_method: 'gptq', bits: 4, group_size: 128, sym: true }, (4 + 16 / 128) / 8],
    ['FP8', { quant_method: 'fp8' }, 1],
  ])('weighs %s linear layers by their packed size, embeddings in bf16', (_, quantization_config, bytesPerParam) => {
    const e = estimateVllm({ ...llama31_8b, quantization_config })
    const embeddingsAndNorms = 2 * 128256 * 4096 + 65 * 4096
    const linear = 8_030_261_248 - embeddingsAndNorms
    expect(e.weightsBytes).toBe(Math.ceil(linear * bytesPerParam + embeddingsAndNorms * 2))
  })

  it('halves the KV cache with --kv-cache-dtype fp8', () => {
    expect(estimateVllm(llama31_8b, { kvCacheDtype: 'fp8' }).kvBytesPerToken).toBe(65536)
  })

  it('reads the language model of a multimodal config from text_config', () => {
    const e = estimateVllm({ architectures: ['LlavaForConditionalGeneration'], text_config: llama31_8b })
    expect(e.parameters).toBe(8_030_261_248)
    expect(e.notes).toContain('multimodal config: the vision tower is not counted')
  })

  it('refuses a config without the shapes it needs', () => {
    expect(() => estimateVllm({ model_type: 'whisper' })).toThrow(/no numeric "hidden_size"/)
  })
})
