import { GgufStringArray, type GgufTensorInfo, type GgufValue } from './gguf-parse.js'

/** The header parts of a GGUF file the estimate reads: what readGguf returns satisfies it. */
export interface GgufModel {
  metadata: ReadonlyMap<string, GgufValue>
  tensors: readonly GgufTensorInfo[]
}

export interface LayerShape {
  /** Width of one token's K and V in this layer's cache (heads_kv × head size); 0 when the layer keeps none. */
  kWidth: number
  vWidth: number
  /** Sliding-window layer: its cache holds the window, not the whole context. */
  swa: boolean
}

/** The hyperparameters the estimate needs, read as llama.cpp's llama_hparams reads them. */
export interface ModelShape {
  architecture: string
  layers: LayerShape[]
  embd: number
  /** Largest query head count over the layers (the KQ matrix without flash attention is that wide). */
  heads: number
  /** Feed-forward width one token passes through: expert_used × expert width for mixture-of-experts models. */
  ffWidth: number
  vocab: number
  contextLength: number | null
  slidingWindow: number | null
  /** False for encoder-only models (BERT): they keep no KV cache. */
  causal: boolean
  notes: string[]
}

function num(v: GgufValue | undefined): number | null {
  if (typeof v === 'number') return v
  if (typeof v === 'bigint') return Number(v)
  return null
}

/** A per-layer value stored either once or as one entry per layer. */
function perLayer(v: GgufValue | undefined, layers: number): number[] | null {
  if (Array.isArray(v)) {
    const list = v.map(num)
    return list.every((n): n is number => n !== null) && list.length === layers ? list : null
  }
  const n = num(v)
  return n === null ? null : Array.from({ length: layers }, () => n)
}

/**
 * Which layers use a sliding window: an explicit list of booleans (gemma4), or a period `n` where every n-th layer
 * is full (llama_hparams::set_swa_pattern with dense_first = false).
 */
function swaLayers(v: GgufValue | undefined, layers: number): boolean[] | null {
  if (Array.isArray(v) && v.length === layers && v.every((x) => typeof x === 'boolean')) return v as boolean[]
  const n = num(v)
  if (n === null) return null
  return Array.from({ length: layers }, (_, il) => n === 0 || il % n < n - 1)
}

export function modelShape({ metadata, tensors }: GgufModel): ModelShape {
  const get = (key: string) => metadata.get(key)
  const arch = get('general.architecture')
  if (typeof arch !== 'string') throw new Error('GGUF has no general.architecture: not a model file')
  const key = (k: string) => get(`${arch}.${k}`)
  const notes: string[] = []

  const layerCount = num(key('block_count'))
  const embd = num(key('embedding_length'))
  if (layerCount === null || embd === null)
    throw new Error(`GGUF (${arch}) has no ${arch}.block_count or ${arch}.embedding_length`)

  const heads = perLayer(key('attention.head_count'), layerCount) ?? Array.from({ length: layerCount }, () => 0)
  const headsKv = perLayer(key('attention.head_count_kv'), layerCount) ?? heads
  const window = num(key('attention.sliding_window'))
  let swa = Array.from({ length: layerCount }, () => false)
  if (window) {
    const pattern = swaLayers(key('attention.sliding_window_pattern'), layerCount)
    if (pattern) swa = pattern
    else notes.push(`${arch}: sliding window without a pattern in the file; every layer counted with the full context`)
  }
  // Layers past this many reuse the KV of earlier ones (gemma3n's shared_kv_layers).
  const shared = num(key('attention.shared_kv_layers')) ?? 0
  const headSize = (il: number, which: 'key' | 'value') =>
    num(key(`attention.${which}_length${swa[il] ? '_swa' : ''}`)) ??
    num(key(`attention.${which}_length`)) ??
    (heads[il] ? embd / heads[il]! : 0)
  const layers = swa.map((isSwa, il) => {
    const kv = il < layerCount - shared ? headsKv[il]! : 0
    return { kWidth: kv * headSize(il, 'key'), vWidth: kv * headSize(il, 'value'), swa: isSwa }
  })
  if (get(`${arch}.attention.kv_lora_rank`) !== undefined) {
    notes.push(`${arch}: multi-head latent attention; the cache is sized from key_length/value_length, not measured`)
  }
  if ([...metadata.keys()].some((k) => k.startsWith(`${arch}.ssm.`) || k.startsWith(`${arch}.wkv.`))) {
    notes.push(`${arch}: recurrent state (SSM/RWKV) is not estimated`)
  }

  const experts = num(key('expert_count')) ?? 0
  const used = num(key('expert_used_count')) ?? 0
  const ffList = perLayer(key('feed_forward_length'), layerCount) ?? [4 * embd]
  const ff = Math.max(...ffList)
  const ffWidth = experts > 0 && used > 0 ? used * (num(key('expert_feed_forward_length')) ?? ff) : ff

  const tokens = get('tokenizer.ggml.tokens')
  const vocab =
    num(key('vocab_size')) ??
    (tokens instanceof GgufStringArray ? tokens.length : null) ??
    tensors.find((t) => t.name === 'token_embd.weight')?.dims[1] ??
    0

  return {
    architecture: arch,
    layers,
    embd,
    heads: Math.max(...heads),
    ffWidth,
    vocab,
    contextLength: num(key('context_length')),
    slidingWindow: window || null,
    causal: key('attention.causal') !== false,
    notes,
  }
}

/** Where llama.cpp puts a tensor: a repeating layer, the input layer (always host memory) or the output layer. */
export function tensorLayer(name: string): number | 'input' | 'output' {
  const m = /^blk\.(\d+)\./.exec(name)
  if (m) return Number(m[1])
  // The input layer: token (and position/type) embeddings are read by row, on the CPU (llama-model.cpp, dev_input).
  if (/^(token_embd|token_types|pos_embd)\./.test(name)) return 'input'
  return 'output'
}
