// Writes the GGUF headers of the llama-architecture models that scripts/gpu/measure-vram.sh loads on a GPU
// machine, plus `models.txt` (`name total-bytes` per line). The tensor data is all zeros, so the device only
// has to append zeros to each header (`truncate -s`): a 14 GB model travels as a 2 MB header.
//   npx tsx scripts/gpu/make-models.ts .device/models
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { GGML_TYPES } from '../../gateway/models/gguf.js'
import { CHATML_TEMPLATE, encodeGguf, gguf, type GgufSpec, type GgufTensorSpec } from '../../test/support/gguf-writer.js'

const F32 = 0
const F16 = 1
const Q8_0 = 8
const Q4_K = 12
const Q6_K = 14
const BF16 = 30

export interface MeasuredModelShape {
  name: string
  contextLength: number
  embd: number
  layers: number
  heads: number
  headsKv: number
  ff: number
  vocab: number
  /** Type of the layer matrices; `down`/`v` override ffn_down and attn_v (as Q4_K_M does with Q6_K). */
  types: { matrix: number; down?: number; v?: number; embd: number; output: number | null }
}

/**
 * The measured shapes: TinyLlama-1.1B, Llama-3-8B (Q4_K_M-like), a tied-embedding MHA F32, Llama-2-13B (Q8_0);
 * then, measured after the formulas were fitted to those, Phi-3-mini (head size 96), Qwen2.5-7B (BF16) and
 * Llama-3.2-1B (tied, Q8_0) shapes in the llama architecture.
 */
export const MODELS: MeasuredModelShape[] = [
  {
    name: 'tl1b-f16',
    ...{ contextLength: 8192, embd: 2048, layers: 22, heads: 32, headsKv: 4, ff: 5632, vocab: 32000 },
    types: { matrix: F16, embd: F16, output: F16 },
  },
  {
    name: 'l3-8b-q4km',
    ...{ contextLength: 8192, embd: 4096, layers: 32, heads: 32, headsKv: 8, ff: 14336, vocab: 128256 },
    types: { matrix: Q4_K, down: Q6_K, v: Q6_K, embd: Q4_K, output: Q6_K },
  },
  {
    name: 'mha-f32-tied',
    ...{ contextLength: 16384, embd: 1024, layers: 24, heads: 16, headsKv: 16, ff: 2816, vocab: 50257 },
    types: { matrix: F32, embd: F32, output: null },
  },
  {
    name: 'l2-13b-q8',
    ...{ contextLength: 4096, embd: 5120, layers: 40, heads: 40, headsKv: 40, ff: 13824, vocab: 32000 },
    types: { matrix: Q8_0, embd: Q8_0, output: Q8_0 },
  },
  {
    // Not named phi3: llama.cpp's vocabulary loader looks for Phi-3's special tokens by the model's name.
    name: 'p3mini-q4km',
    ...{ contextLength: 4096, embd: 3072, layers: 32, heads: 32, headsKv: 32, ff: 8192, vocab: 32064 },
    types: { matrix: Q4_K, down: Q6_K, v: Q6_K, embd: Q4_K, output: Q6_K },
  },
  {
    name: 'qwen7b-bf16',
    ...{ contextLength: 32768, embd: 3584, layers: 28, heads: 28, headsKv: 4, ff: 18944, vocab: 152064 },
    types: { matrix: BF16, embd: BF16, output: BF16 },
  },
  {
    name: 'l32-1b-q8-tied',
    ...{ contextLength: 131072, embd: 2048, layers: 16, heads: 32, headsKv: 8, ff: 8192, vocab: 128256 },
    types: { matrix: Q8_0, embd: Q8_0, output: null },
  },
]

function tensors(m: MeasuredModelShape): GgufTensorSpec[] {
  const kv = (m.embd / m.heads) * m.headsKv
  const t = m.types
  const out: GgufTensorSpec[] = [
    { name: 'token_embd.weight', dims: [m.embd, m.vocab], type: t.embd },
    { name: 'output_norm.weight', dims: [m.embd], type: F32 },
  ]
  if (t.output !== null) out.push({ name: 'output.weight', dims: [m.embd, m.vocab], type: t.output })
  for (let i = 0; i < m.layers; i++) {
    const blk = (name: string, dims: number[], type: number) => out.push({ name: `blk.${i}.${name}.weight`, dims, type })
    blk('attn_norm', [m.embd], F32)
    blk('attn_q', [m.embd, m.embd], t.matrix)
    blk('attn_k', [m.embd, kv], t.matrix)
    blk('attn_v', [m.embd, kv], t.v ?? t.matrix)
    blk('attn_output', [m.embd, m.embd], t.matrix)
    blk('ffn_norm', [m.embd], F32)
    blk('ffn_gate', [m.embd, m.ff], t.matrix)
    blk('ffn_up', [m.embd, m.ff], t.matrix)
    blk('ffn_down', [m.ff, m.embd], t.down ?? t.matrix)
  }
  return out
}

// SentencePiece: <unk> <s> </s>, the 256 byte tokens, ChatML's markers, then filler pieces up to the vocabulary size.
function vocabulary(size: number): { tokens: string[]; types: number[] } {
  const tokens = ['<unk>', '<s>', '</s>']
  const types = [2, 3, 3]
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`)
    types.push(6)
  }
  tokens.push('<|im_start|>', '<|im_end|>')
  types.push(3, 3)
  for (let i = 0; tokens.length < size; i++) {
    tokens.push(`▁w${i}`)
    types.push(1)
  }
  return { tokens, types }
}

/** The GGUF spec of a measured model, tensor data left out (all zeros on the device). */
export function measuredModelSpec(m: MeasuredModelShape): GgufSpec & { tensors: GgufTensorSpec[] } {
  const { tokens, types } = vocabulary(m.vocab)
  return {
    metadata: {
      'general.architecture': gguf.str('llama'),
      'general.name': gguf.str(m.name),
      'llama.context_length': gguf.u32(m.contextLength),
      'llama.embedding_length': gguf.u32(m.embd),
      'llama.block_count': gguf.u32(m.layers),
      'llama.feed_forward_length': gguf.u32(m.ff),
      'llama.attention.head_count': gguf.u32(m.heads),
      'llama.attention.head_count_kv': gguf.u32(m.headsKv),
      'llama.attention.layer_norm_rms_epsilon': gguf.f32(1e-5),
      'llama.rope.dimension_count': gguf.u32(m.embd / m.heads),
      'llama.rope.freq_base': gguf.f32(10000),
      'llama.vocab_size': gguf.u32(m.vocab),
      'tokenizer.ggml.model': gguf.str('llama'),
      'tokenizer.ggml.pre': gguf.str('default'),
      'tokenizer.ggml.tokens': gguf.strings(tokens),
      'tokenizer.ggml.scores': gguf.array({ type: 6, values: tokens.map(() => 0) }),
      'tokenizer.ggml.token_type': gguf.array({ type: 5, values: types }),
      'tokenizer.ggml.unknown_token_id': gguf.u32(0),
      'tokenizer.ggml.bos_token_id': gguf.u32(1),
      'tokenizer.ggml.eos_token_id': gguf.u32(2),
      'tokenizer.chat_template': gguf.str(CHATML_TEMPLATE),
    },
    tensors: tensors(m),
  }
}

/** The header bytes and the size of the whole file (header + zero-filled tensor data). */
export function measuredModelHeader(m: MeasuredModelShape): { head: Buffer; total: number } {
  const spec = measuredModelSpec(m)
  const head = encodeGguf(spec, { headerOnly: true })
  const data = spec.tensors.reduce((sum, t) => {
    const type = GGML_TYPES.get(t.type ?? F32)!
    const size = (t.dims.reduce((a, b) => a * b, 1) / type.blockSize) * type.typeSize
    return sum + Math.ceil(size / 32) * 32
  }, 0)
  return { head, total: head.length + data }
}

async function main(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  const lines: string[] = []
  for (const m of MODELS) {
    const { head, total } = measuredModelHeader(m)
    await writeFile(join(dir, `${m.name}.head`), head)
    lines.push(`${m.name} ${total}`)
  }
  await writeFile(join(dir, 'models.txt'), lines.join('\n') + '\n')
  console.log(lines.join('\n'))
}

if (process.argv[1]?.endsWith('make-models.ts')) await main(process.argv[2] ?? '.device/models')
