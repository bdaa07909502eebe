/**
 * GPU memory vLLM needs for a Hugging Face model, from its config.json (already parsed; pure). vLLM takes
 * gpu-memory-utilization × each card's memory at start whatever the model needs, then fills what its weights and
 * activations leave with KV cache; it refuses to start when that cannot hold one max-model-len sequence. Not
 * measured (no vLLM on the machine the llama.cpp figures came from): parameter counts are exact for dense
 * llama-style configs, activations and overhead are allowances.
 */
import { VLLM_DEFAULTS, type VllmSettings } from './estimate-args.js'

const GiB = 1024 ** 3

/** Allowances, per GPU: CUDA context + PyTorch/NCCL state, and the CUDA graphs vLLM captures for decoding. */
export const VLLM_OVERHEAD_BYTES = 1.5 * GiB
/** Tokens vLLM's profiling forward pass uses (its max-num-batched-tokens for the OpenAI server on large GPUs). */
const PROFILE_TOKENS = 8192

export type HfConfig = Record<string, unknown>

export interface VllmEstimate {
  /** Parameters of the language model, from the config's shapes. */
  parameters: number
  /** Cards used: tensor-parallel × pipeline-parallel size. */
  gpus: number
  /** Per GPU from here on. */
  weightsBytes: number
  /** The least vLLM accepts: one sequence of maxModelLen tokens. */
  kvCacheBytes: number
  computeBytes: number
  overheadBytes: number
  /** What the model needs on each card: weights + one full sequence of KV + activations + overhead. */
  needBytes: number
  /** gpu-memory-utilization × card memory: what vLLM takes on each card; null without a card size. */
  reservationBytes: number | null
  /** KV cache tokens (over all sequences) the reservation leaves; null without a card size. */
  kvCapacityTokens: number | null
  /** Whether the reservation covers the need; null without a card size. */
  fits: boolean | null
  /** KV bytes per token, summed over all GPUs. */
  kvBytesPerToken: number
  maxModelLen: number
  notes: string[]
}

function n(config: HfConfig, ...keys: string[]): number | null {
  for (const key of keys) {
    const v = config[key]
    if (typeof v === 'number' && Number.isFinite(v)) return v
  }
  return null
}

function required(config: HfConfig, key: string): number {
  const v = n(config, key)
  if (v === null) throw new Error(`config.json has no numeric "${key}": not a decoder config vLLM can size`)
  return v
}

// vLLM's --dtype auto runs float32 and float16 checkpoints in float16 and bfloat16 ones in bfloat16: 2 bytes.
const dtypeBytes = (dtype: string) => (dtype === 'float32' || dtype === 'float' ? 4 : 2)

/** Bytes per parameter of quantized linear layers: the packed bits plus one 16-bit scale (and zero) per group. */
function quantizedBytes(method: string, q: HfConfig, notes: string[]): number | null {
  const m = method.toLowerCase()
  if (m === 'fp8' || m === 'fbgemm_fp8' || m === 'modelopt') return 1
  if (m === 'mxfp4') return 4.25 / 8
  const bits = n(q, 'bits', 'w_bit', 'weight_bits') ?? (m === 'bitsandbytes' ? 4 : null)
  if (bits === null) {
    notes.push(`quantization "${method}": bit width not found in quantization_config; weights counted in the model dtype`)
    return null
  }
  const group = n(q, 'group_size', 'q_group_size') ?? 128
  const perGroup = group > 0 ? (16 + (q['sym'] === true ? 0 : bits)) / group : 0
  return (bits + perGroup) / 8
}

export function estimateVllm(
  hfConfig: HfConfig,
  settings: Partial<VllmSettings> = {},
  options: { cardBytes?: number } = {},
): VllmEstimate {
  const s = { ...VLLM_DEFAULTS, ...settings }
  const notes: string[] = []
  // Multimodal configs keep the language model's shapes in text_config.
  const text =
    typeof hfConfig['text_config'] === 'object' && hfConfig['text_config'] !== null ? (hfConfig['text_config'] as HfConfig) : {}
  const c: HfConfig = { ...hfConfig, ...text }
  if (Object.keys(text).length > 0) notes.push('multimodal config: the vision tower is not counted')

  const hidden = required(c, 'hidden_size')
  const layers = required(c, 'num_hidden_layers')
  const heads = required(c, 'num_attention_heads')
  const kvHeads = n(c, 'num_key_value_heads') ?? heads
  const headDim = n(c, 'head_dim') ?? hidden / heads
  const vocab = required(c, 'vocab_size')
  const intermediate = n(c, 'intermediate_size') ?? 4 * hidden
  const tied = c['tie_word_embeddings'] === true

  const attention = hidden * heads * headDim * 2 + hidden * kvHeads * headDim * 2
  const experts = n(c, 'num_local_experts', 'num_experts', 'n_routed_experts') ?? 0
  const denseMlp = 3 * hidden * intermediate
  let mlp = layers * denseMlp
  if (experts > 0) {
    const expertWidth = n(c, 'moe_intermediate_size') ?? intermediate
    const shared = (n(c, 'shared_expert_intermediate_size') ?? 0) + (n(c, 'n_shared_experts') ?? 0) * expertWidth
    const dense = n(c, 'first_k_dense_replace') ?? 0
    const moeLayer = experts * 3 * hidden * expertWidth + 3 * hidden * shared + hidden * experts
    mlp = dense * denseMlp + (layers - dense) * moeLayer
    notes.push(`mixture of experts: all ${experts} experts are resident; activations sized for the dense width`)
  }
  // Qwen2 always has q/k/v biases; other configs say so with attention_bias.
  const biases = c['attention_bias'] === true || c['model_type'] === 'qwen2' ? layers * (heads + 2 * kvHeads) * headDim : 0
  const linear = layers * attention + mlp
  const embeddings = vocab * hidden * (tied ? 1 : 2)
  const norms = (2 * layers + 1) * hidden + biases
  const parameters = linear + embeddings + norms

  const modelBytes = dtypeBytes(s.dtype)
  const q = hfConfig['quantization_config'] as HfConfig | undefined
  const method = s.quantization ?? (typeof q?.['quant_method'] === 'string' ? q['quant_method'] : null)
  const linearBytes = (method && quantizedBytes(method, q ?? {}, notes)) || modelBytes
  const gpus = s.tensorParallel * s.pipelineParallel
  const weightsBytes = Math.ceil((linear * linearBytes + (embeddings + norms) * modelBytes) / gpus)

  const kvBytes = s.kvCacheDtype.startsWith('fp8') ? 1 : modelBytes
  const kvLora = n(c, 'kv_lora_rank')
  // MLA (DeepSeek) caches one latent vector plus the rotary part per token and layer, not K and V per head.
  const kvWidth = kvLora !== null ? kvLora + (n(c, 'qk_rope_head_dim') ?? 0) : 2 * kvHeads * headDim
  if (kvLora !== null) notes.push('multi-head latent attention: KV sized from kv_lora_rank + qk_rope_head_dim')
  const kvBytesPerToken = layers * kvWidth * kvBytes
  const trained = n(c, 'max_position_embeddings', 'max_sequence_length', 'seq_length')
  const maxModelLen = s.maxModelLen ?? trained ?? 4096
  if (s.maxModelLen === null && trained === null) notes.push('config.json states no max_position_embeddings; assumed 4096')
  if (s.maxModelLen !== null && trained !== null && s.maxModelLen > trained) {
    notes.push(`--max-model-len ${s.maxModelLen} exceeds the model's ${trained}: vLLM refuses it unless told to allow it`)
  }
  const kvCacheBytes = Math.ceil((kvBytesPerToken * maxModelLen) / gpus)

  // The profiling pass: a few hidden-size and intermediate-size rows per token, plus the sampler's logits.
  const width = experts > 0 ? hidden : intermediate
  const computeBytes = Math.ceil(
    (PROFILE_TOKENS * (4 * hidden + 2 * width) * modelBytes) / s.tensorParallel + s.maxNumSeqs * vocab * 4,
  )
  const overheadBytes = VLLM_OVERHEAD_BYTES
  const needBytes = weightsBytes + kvCacheBytes + computeBytes + overheadBytes

  let reservationBytes: number | null = null
  let kvCapacityTokens: number | null = null
  let fits: boolean | null = null
  if (options.cardBytes !== undefined) {
    reservationBytes = Math.floor(options.cardBytes * s.gpuMemoryUtilization)
    const left = reservationBytes - (weightsBytes + computeBytes + overheadBytes)
    kvCapacityTokens = Math.max(0, Math.floor((left * gpus) / kvBytesPerToken))
    fits = reservationBytes >= needBytes
  }
  return {
    parameters,
    gpus,
    weightsBytes,
    kvCacheBytes,
    computeBytes,
    overheadBytes,
    needBytes,
    reservationBytes,
    kvCapacityTokens,
    fits,
    kvBytesPerToken,
    maxModelLen,
    notes,
  }
}
