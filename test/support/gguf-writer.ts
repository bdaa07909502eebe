import { randomBytes } from 'node:crypto'
import { rename, writeFile } from 'node:fs/promises'
import { GGML_TYPES, GgufValueType } from '../../gateway/models/gguf.js'
import { mulberry32 } from './random.js'

type T = typeof GgufValueType
type NumberType = T['UINT8' | 'INT8' | 'UINT16' | 'INT16' | 'UINT32' | 'INT32' | 'FLOAT32' | 'FLOAT64']
type BigType = T['UINT64' | 'INT64']

/** Array items carry one element type, as in the file; arrays of arrays nest. */
export type GgufItems =
  | { type: NumberType; values: number[] }
  | { type: BigType; values: bigint[] }
  | { type: T['BOOL']; values: boolean[] }
  | { type: T['STRING']; values: string[] }
  | { type: T['ARRAY']; values: GgufItems[] }

/** A metadata value with its GGUF type (a JS number alone does not say uint32 or float32). */
export type GgufTypedValue =
  | { type: NumberType; value: number }
  | { type: BigType; value: bigint }
  | { type: T['BOOL']; value: boolean }
  | { type: T['STRING']; value: string }
  | { type: T['ARRAY']; items: GgufItems }

const V = GgufValueType
/** Shorthands: `gguf.u32(2048)`, `gguf.strings(['a', 'b'])`. */
export const gguf = {
  u8: (value: number) => ({ type: V.UINT8, value }) as const,
  i8: (value: number) => ({ type: V.INT8, value }) as const,
  u16: (value: number) => ({ type: V.UINT16, value }) as const,
  i16: (value: number) => ({ type: V.INT16, value }) as const,
  u32: (value: number) => ({ type: V.UINT32, value }) as const,
  i32: (value: number) => ({ type: V.INT32, value }) as const,
  f32: (value: number) => ({ type: V.FLOAT32, value }) as const,
  f64: (value: number) => ({ type: V.FLOAT64, value }) as const,
  u64: (value: bigint) => ({ type: V.UINT64, value }) as const,
  i64: (value: bigint) => ({ type: V.INT64, value }) as const,
  bool: (value: boolean) => ({ type: V.BOOL, value }) as const,
  str: (value: string) => ({ type: V.STRING, value }) as const,
  array: (items: GgufItems) => ({ type: V.ARRAY, items }) as const,
  strings: (values: string[]) => ({ type: V.ARRAY, items: { type: V.STRING, values } }) as const,
}

export interface GgufTensorSpec {
  name: string
  /** ne0 first. */
  dims: number[]
  /** ggml type id; default 0 (F32). */
  type?: number
  /** Exactly the tensor's byte size; default zeros. */
  data?: Float32Array | Buffer
}

export interface GgufSpec {
  metadata: Record<string, GgufTypedValue>
  tensors?: GgufTensorSpec[]
  /** Written as general.alignment when not 32. */
  alignment?: number
  /** v2 and v3 share one layout; default 3. */
  version?: 2 | 3
}

type Scalar = number | bigint | boolean
const SCALARS: Record<number, { size: number; write: (b: Buffer, v: Scalar) => void }> = {
  [V.UINT8]: { size: 1, write: (b, v) => b.writeUInt8(v as number) },
  [V.INT8]: { size: 1, write: (b, v) => b.writeInt8(v as number) },
  [V.UINT16]: { size: 2, write: (b, v) => b.writeUInt16LE(v as number) },
  [V.INT16]: { size: 2, write: (b, v) => b.writeInt16LE(v as number) },
  [V.UINT32]: { size: 4, write: (b, v) => b.writeUInt32LE(v as number) },
  [V.INT32]: { size: 4, write: (b, v) => b.writeInt32LE(v as number) },
  [V.FLOAT32]: { size: 4, write: (b, v) => b.writeFloatLE(v as number) },
  [V.FLOAT64]: { size: 8, write: (b, v) => b.writeDoubleLE(v as number) },
  [V.UINT64]: { size: 8, write: (b, v) => b.writeBigUInt64LE(v as bigint) },
  [V.INT64]: { size: 8, write: (b, v) => b.writeBigInt64LE(v as bigint) },
  [V.BOOL]: { size: 1, write: (b, v) => b.writeUInt8(v ? 1 : 0) },
}

/** Appends little-endian values to a growing list of chunks. */
class Out {
  readonly chunks: Buffer[] = []
  length = 0

  bytes(b: Buffer): void {
    this.chunks.push(b)
    this.length += b.length
  }

  u32(n: number): void {
    const b = Buffer.alloc(4)
    b.writeUInt32LE(n)
    this.bytes(b)
  }

  u64(n: number | bigint): void {
    const b = Buffer.alloc(8)
    b.writeBigUInt64LE(BigInt(n))
    this.bytes(b)
  }

  string(s: string): void {
    const b = Buffer.from(s, 'utf8')
    this.u64(b.length)
    this.bytes(b)
  }

  scalar(type: number, value: Scalar): void {
    const { size, write } = SCALARS[type]!
    const b = Buffer.alloc(size)
    write(b, value)
    this.bytes(b)
  }

  items(items: GgufItems): void {
    this.u32(items.type)
    this.u64(items.values.length)
    for (const v of items.values) {
      if (items.type === V.STRING) this.string(v as string)
      else if (items.type === V.ARRAY) this.items(v as GgufItems)
      else this.scalar(items.type, v as Scalar)
    }
  }

  value(v: GgufTypedValue): void {
    this.u32(v.type)
    if (v.type === V.STRING) this.string(v.value)
    else if (v.type === V.ARRAY) this.items(v.items)
    else this.scalar(v.type, v.value)
  }

  pad(alignment: number): void {
    const rest = this.length % alignment
    if (rest !== 0) this.bytes(Buffer.alloc(alignment - rest))
  }
}

function tensorSize(t: GgufTensorSpec): number {
  const type = GGML_TYPES.get(t.type ?? 0)
  if (!type) throw new Error(`tensor "${t.name}": unknown ggml type ${t.type}`)
  const size = (t.dims.reduce((a, b) => a * b, 1) / type.blockSize) * type.typeSize
  if (!Number.isInteger(size)) throw new Error(`tensor "${t.name}": ${t.dims[0]} is not a multiple of ${type.name}'s block size`)
  return size
}

function tensorBytes(t: GgufTensorSpec, size: number): Buffer {
  const data = t.data ?? Buffer.alloc(size)
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  if (bytes.length !== size) throw new Error(`tensor "${t.name}": ${bytes.length} bytes of data, expected ${size}`)
  return bytes
}

/**
 * The bytes of a GGUF file: header, metadata, tensor infos, then each tensor's data padded to the alignment.
 * `headerOnly` stops before the data (llama.cpp's `only_meta`), e.g. to describe tensors larger than memory.
 */
export function encodeGguf(spec: GgufSpec, { headerOnly = false } = {}): Buffer {
  const alignment = spec.alignment ?? 32
  const metadata = { ...spec.metadata }
  if (alignment !== 32) metadata['general.alignment'] = gguf.u32(alignment)
  const tensors = (spec.tensors ?? []).map((t) => ({ ...t, size: tensorSize(t) }))

  const out = new Out()
  out.bytes(Buffer.from('GGUF', 'latin1'))
  out.u32(spec.version ?? 3)
  out.u64(tensors.length)
  out.u64(Object.keys(metadata).length)
  for (const [key, value] of Object.entries(metadata)) {
    out.string(key)
    out.value(value)
  }
  let offset = 0
  for (const t of tensors) {
    out.string(t.name)
    out.u32(t.dims.length)
    for (const d of t.dims) out.u64(d)
    out.u32(t.type ?? 0)
    out.u64(offset)
    offset += Math.ceil(t.size / alignment) * alignment
  }
  // Padded after the header and after each tensor, like llama.cpp's gguf_write_out.
  out.pad(alignment)
  if (!headerOnly) {
    for (const t of tensors) {
      out.bytes(tensorBytes(t, t.size))
      out.pad(alignment)
    }
  }
  return Buffer.concat(out.chunks)
}

/** Writes next to `path` and renames, so a reader never sees half a file. */
export async function writeGguf(path: string, spec: GgufSpec | Buffer): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  await writeFile(tmp, Buffer.isBuffer(spec) ? spec : encodeGguf(spec))
  await rename(tmp, path)
}

export interface TinyLlamaOptions {
  /** llama.context_length; default 2048. */
  contextLength?: number
  /** Default 64. */
  embeddingLength?: number
  /** Default 2. */
  blockCount?: number
  /** Default 4. */
  headCount?: number
  /** Default 2: grouped-query attention, as most current models use. */
  headCountKv?: number
  /** Default 128. */
  feedForwardLength?: number
  /** Seed of the weights; default 1. */
  seed?: number
  /** general.name; default "tiny-llama". */
  name?: string
  /** tokenizer.chat_template; default a ChatML template. */
  chatTemplate?: string
}

export interface TinyLlama {
  embeddingLength: number
  contextLength: number
  vocabSize: number
  /** What is written, metadata and tensors, for assertions. */
  spec: GgufSpec
}

export const CHATML_TEMPLATE =
  "{%- for message in messages -%}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}{%- endfor -%}" +
  "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"

// llama.cpp's llama_token_type: NORMAL 1, UNKNOWN 2, CONTROL 3, BYTE 6.
const NORMAL = 1
const UNKNOWN = 2
const CONTROL = 3
const BYTE = 6

const WORDS = 'the a is of and to in it you that model hello world tiny llama token'.split(' ')
const CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'-"

interface Token {
  text: string
  type: number
  /** Never generated: the model's output pushes it far down (see tinyWeights). */
  muted: boolean
}

/**
 * A byte-level SentencePiece vocabulary: `<unk> <s> </s>`, the 256 byte tokens, ChatML's markers, then plain
 * pieces (`▁`, characters, and each word with its prefixes so SPM's pair merges can reach it).
 */
function tinyVocabulary(): Token[] {
  const bytes = Array.from({ length: 256 }, (_, b) => ({
    text: `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`,
    type: BYTE,
    // Bytes that are not printable ASCII or a newline would make the replies invalid UTF-8 or control characters.
    muted: !(b === 0x0a || (b >= 0x20 && b < 0x7f)),
  }))
  const pieces = new Set(['▁', ...CHARS])
  for (const word of WORDS) for (let n = 2; n <= word.length + 1; n++) pieces.add(`▁${word}`.slice(0, n))
  return [
    { text: '<unk>', type: UNKNOWN, muted: true },
    { text: '<s>', type: CONTROL, muted: true },
    { text: '</s>', type: CONTROL, muted: true },
    ...bytes,
    { text: '<|im_start|>', type: CONTROL, muted: true },
    { text: '<|im_end|>', type: CONTROL, muted: true },
    ...[...pieces].map((text) => ({ text, type: NORMAL, muted: false })),
  ]
}

/**
 * Random weights shaped so that generation is varied and never ends on its own. Dimension 0 of the residual
 * stream is a constant 1 from every token embedding; no layer reads or writes it (their column or row 0 is
 * zero), so after the final RMS norm it is about sqrt(n_embd). Output rows of muted tokens (EOS, control,
 * unprintable bytes) weigh it by -4, every other row by 0: muted logits sit ~30 below the rest, so replies
 * are printable text that runs to max_tokens.
 */
function tinyWeights(n: Required<Omit<TinyLlamaOptions, 'name' | 'chatTemplate'>>, vocab: Token[]): GgufTensorSpec[] {
  const rand = mulberry32(n.seed)
  const E = n.embeddingLength
  const kvDim = (E / n.headCount) * n.headCountKv
  const ones = (count: number) => new Float32Array(count).fill(1)
  // A [cols, rows] matrix (ne0 first: each row is `cols` contiguous values).
  const matrix = (cols: number, rows: number, scale: number, opts: { col0?: number[]; row0?: number } = {}) => {
    const m = Float32Array.from({ length: cols * rows }, () => (rand() * 2 - 1) * scale)
    opts.col0?.forEach((value, row) => (m[row * cols] = value))
    if (opts.row0 !== undefined) m.fill(opts.row0, 0, cols)
    return m
  }
  const column0 = (rows: number, value: (row: number) => number) => Array.from({ length: rows }, (_, r) => value(r))
  const V = vocab.length

  const tensors: GgufTensorSpec[] = [
    { name: 'token_embd.weight', dims: [E, V], data: matrix(E, V, 0.1, { col0: column0(V, () => 1) }) },
    { name: 'output_norm.weight', dims: [E], data: ones(E) },
    { name: 'output.weight', dims: [E, V], data: matrix(E, V, 1, { col0: column0(V, (v) => (vocab[v]!.muted ? -4 : 0)) }) },
  ]
  const reads = (rows: number, scale: number) => matrix(E, rows, scale, { col0: column0(rows, () => 0) })
  for (let i = 0; i < n.blockCount; i++) {
    const blk = (name: string, dims: number[], data: Float32Array) =>
      tensors.push({ name: `blk.${i}.${name}.weight`, dims, data })
    blk('attn_norm', [E], ones(E))
    blk('attn_q', [E, E], reads(E, 0.2))
    blk('attn_k', [E, kvDim], reads(kvDim, 0.2))
    blk('attn_v', [E, kvDim], reads(kvDim, 0.2))
    blk('attn_output', [E, E], matrix(E, E, 0.1, { row0: 0 }))
    blk('ffn_norm', [E], ones(E))
    blk('ffn_gate', [E, n.feedForwardLength], reads(n.feedForwardLength, 0.2))
    blk('ffn_up', [E, n.feedForwardLength], reads(n.feedForwardLength, 0.2))
    blk('ffn_down', [n.feedForwardLength, E], matrix(n.feedForwardLength, E, 0.1, { row0: 0 }))
  }
  return tensors
}

/** The spec of a tiny llama-architecture chat model with F32 random weights (~0.5 MB with the defaults). */
export function tinyLlamaSpec(opts: TinyLlamaOptions = {}): TinyLlama {
  const n = {
    contextLength: opts.contextLength ?? 2048,
    embeddingLength: opts.embeddingLength ?? 64,
    blockCount: opts.blockCount ?? 2,
    headCount: opts.headCount ?? 4,
    headCountKv: opts.headCountKv ?? 2,
    feedForwardLength: opts.feedForwardLength ?? 128,
    seed: opts.seed ?? 1,
  }
  if (n.embeddingLength % n.headCount !== 0 || n.headCount % n.headCountKv !== 0) {
    throw new Error(`tiny llama: embeddingLength must divide by headCount and headCount by headCountKv`)
  }
  const vocab = tinyVocabulary()
  const spec: GgufSpec = {
    metadata: {
      'general.architecture': gguf.str('llama'),
      'general.name': gguf.str(opts.name ?? 'tiny-llama'),
      'general.file_type': gguf.u32(0),
      'llama.context_length': gguf.u32(n.contextLength),
      'llama.embedding_length': gguf.u32(n.embeddingLength),
      'llama.block_count': gguf.u32(n.blockCount),
      'llama.feed_forward_length': gguf.u32(n.feedForwardLength),
      'llama.attention.head_count': gguf.u32(n.headCount),
      'llama.attention.head_count_kv': gguf.u32(n.headCountKv),
      'llama.attention.layer_norm_rms_epsilon': gguf.f32(1e-5),
      'llama.rope.dimension_count': gguf.u32(n.embeddingLength / n.headCount),
      'llama.rope.freq_base': gguf.f32(10000),
      'llama.vocab_size': gguf.u32(vocab.length),
      'tokenizer.ggml.model': gguf.str('llama'),
      'tokenizer.ggml.pre': gguf.str('default'),
      'tokenizer.ggml.tokens': gguf.strings(vocab.map((t) => t.text)),
      // SPM merges the pair whose piece scores highest: longer pieces first, so words win over letters.
      'tokenizer.ggml.scores': gguf.array({ type: V.FLOAT32, values: vocab.map((t) => (t.type === NORMAL ? t.text.length : 0)) }),
      'tokenizer.ggml.token_type': gguf.array({ type: V.INT32, values: vocab.map((t) => t.type) }),
      'tokenizer.ggml.unknown_token_id': gguf.u32(0),
      'tokenizer.ggml.bos_token_id': gguf.u32(1),
      'tokenizer.ggml.eos_token_id': gguf.u32(2),
      'tokenizer.ggml.add_bos_token': gguf.bool(true),
      'tokenizer.ggml.add_eos_token': gguf.bool(false),
      'tokenizer.chat_template': gguf.str(opts.chatTemplate ?? CHATML_TEMPLATE),
    },
    tensors: tinyWeights(n, vocab),
  }
  return { embeddingLength: n.embeddingLength, contextLength: n.contextLength, vocabSize: vocab.length, spec }
}

/** Writes the tiny llama model (see tinyLlamaSpec) to `path`. */
export async function writeTinyLlama(path: string, opts: TinyLlamaOptions = {}): Promise<TinyLlama> {
  const model = tinyLlamaSpec(opts)
  await writeGguf(path, model.spec)
  return model
}
