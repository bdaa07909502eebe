import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { GgufStringArray, GgufValueType as V, readGguf, type GgufFile, type GgufValue } from '../../gateway/models/gguf.js'
import { CHATML_TEMPLATE, tinyLlamaSpec, type GgufItems, type GgufTypedValue } from '../support/gguf-writer.js'
import { startLlamaServer, type LlamaServer } from '../support/substrate.js'

const vocab = (name: string) => path.join(inject('llamaSrc'), 'models', `ggml-vocab-${name}.gguf`)
const strings = (g: GgufFile, key: string) => g.metadata.get(key) as GgufStringArray
const list = (g: GgufFile, key: string) => g.metadata.get(key) as GgufValue[]

/** What the reader should return for a value the writer was given. */
function expected(v: GgufTypedValue): unknown {
  if (v.type === V.ARRAY) return expectedItems(v.items)
  return v.type === V.FLOAT32 ? Math.fround(v.value as number) : v.value
}
function expectedItems(items: GgufItems): unknown {
  if (items.type === V.ARRAY) return items.values.map(expectedItems)
  return items.type === V.FLOAT32 ? items.values.map((x) => Math.fround(x)) : items.values
}
const comparable = (value: GgufValue | undefined): unknown =>
  value instanceof GgufStringArray ? value.toArray() : Array.isArray(value) ? value.map(comparable) : value

describe('the reader reads what the writer wrote', () => {
  it('metadata, tensor table and tensor data of the tiny llama model', async () => {
    const { spec } = tinyLlamaSpec()
    const file = inject('tinyModel')
    const g = await readGguf(file)

    expect([...g.metadata.keys()]).toEqual(Object.keys(spec.metadata))
    for (const [key, value] of Object.entries(spec.metadata)) {
      expect(comparable(g.metadata.get(key)), key).toEqual(expected(value))
    }

    const bytes = readFileSync(file)
    let offset = 0
    for (const [i, t] of spec.tensors!.entries()) {
      const read = g.tensors[i]!
      expect([read.name, read.dims, read.type, read.offset]).toEqual([t.name, t.dims, 'F32', offset])
      const data = t.data as Float32Array
      const stored = bytes.subarray(g.dataOffset + read.offset, g.dataOffset + read.offset + read.size)
      expect(stored.equals(Buffer.from(data.buffer, data.byteOffset, data.byteLength)), `${t.name} data`).toBe(true)
      offset += Math.ceil(read.size / 32) * 32
    }
    expect(g.tensorCount).toBe(3 + 2 * 9)
    expect(g.dataOffset % 32).toBe(0)
    expect(g.fileSize).toBe(bytes.length)
    expect(g).toMatchObject({ architecture: 'llama', contextLength: 2048, blockCount: 2, embeddingLength: 64, headCount: 4 })
    expect(g).toMatchObject({ headCountKv: 2, fileType: 'F32', quantization: { F32: g.fileSize - g.dataOffset } })
  })
})

// Expected values were read from the same files with llama.cpp's own gguf-py (GGUFReader), which is too slow
// (about a minute for these four) to run in the suite.
describe('the reader reads the real vocab-only GGUFs of llama.cpp', () => {
  it('llama-spm: a SentencePiece vocabulary (v3)', async () => {
    const g = await readGguf(vocab('llama-spm'))
    expect(g).toMatchObject({ version: 3, tensorCount: 0, parameterCount: 0, architecture: 'llama', fileType: 'F16' })
    expect(g).toMatchObject({ contextLength: 4096, blockCount: 32, embeddingLength: 4096, headCount: 32, headCountKv: 32 })
    expect(g.metadata.size).toBe(22)
    const tokens = strings(g, 'tokenizer.ggml.tokens')
    expect(tokens.length).toBe(g.metadata.get('llama.vocab_size'))
    expect([tokens.at(0), tokens.at(1), tokens.at(16000), tokens.at(31999)]).toEqual(['<unk>', '<s>', '\u2581deleg', '\u7ed9'])
    expect(list(g, 'tokenizer.ggml.scores')[16000]).toBe(-15741)
    expect(list(g, 'tokenizer.ggml.token_type').slice(0, 3)).toEqual([2, 3, 3])
    expect(g.metadata.get('llama.attention.layer_norm_rms_epsilon')).toBe(9.999999747378752e-6)
    expect(g.metadata.get('tokenizer.ggml.add_bos_token')).toBe(true)
    expect(g.metadata.get('tokenizer.ggml.add_eos_token')).toBe(false)
  })

  it('aquila: GGUF v2 with BPE merges', async () => {
    const g = await readGguf(vocab('aquila'))
    expect(g).toMatchObject({ version: 2, architecture: 'llama', contextLength: 2048, fileType: null })
    expect(g.metadata.size).toBe(18)
    expect(g.metadata.get('general.name')).toBe('D:\\Diverses\\models')
    const tokens = strings(g, 'tokenizer.ggml.tokens')
    expect([tokens.length, tokens.at(50004), tokens.at(100007)]).toEqual([100008, '\u0120emit', '</s>'])
    const merges = strings(g, 'tokenizer.ggml.merges')
    expect([merges.length, merges.at(0), merges.at(1), merges.at(99742)]).toEqual([
      99743,
      '\u0120 \u0120',
      '\u00e4 \u00b8',
      '\u00e7\u0143\u012b \u00e8\u00af\u00be\u00e7\u00a8\u012d',
    ])
  })

  it('qwen2: a 152k-token BPE vocabulary and a chat template', async () => {
    const g = await readGguf(vocab('qwen2'))
    expect(g).toMatchObject({ version: 3, architecture: 'qwen2', contextLength: 32768 })
    expect(g.metadata.size).toBe(20)
    const tokens = strings(g, 'tokenizer.ggml.tokens')
    expect([tokens.length, tokens.at(75968), tokens.at(151935)]).toEqual([151936, '\u0120setColor', '[PAD151935]'])
    expect(list(g, 'tokenizer.ggml.token_type')[151935]).toBe(4)
    expect(strings(g, 'tokenizer.ggml.merges').at(75693)).toBe('\u0120jou eur')
    expect(g.metadata.get('qwen2.rope.freq_base')).toBe(1e6)
    expect(g.metadata.get('tokenizer.ggml.eos_token_id')).toBe(151643)
    const template = g.metadata.get('tokenizer.chat_template') as string
    expect(createHash('sha256').update(template).digest('hex')).toBe(
      'af9c0233881b083b52ff773580215222b5440ac3d0beeeca99b76329b048f8db',
    )
  })

  it('bert-bge: an encoder with a bool key and no KV head count', async () => {
    const g = await readGguf(vocab('bert-bge'))
    expect(g).toMatchObject({ architecture: 'bert', contextLength: 512, embeddingLength: 384, headCount: 12, headCountKv: null })
    expect(g.metadata.get('bert.attention.causal')).toBe(false)
    expect(strings(g, 'tokenizer.ggml.tokens').at(15261)).toBe('\u2581amazed')
  })

  it('gemma-4: a 262k-token vocabulary with per-layer head counts', async () => {
    const g = await readGguf(vocab('gemma-4'))
    expect(g).toMatchObject({
      architecture: 'gemma4',
      contextLength: 262144,
      blockCount: 30,
      embeddingLength: 2816,
      headCount: 16,
    })
    expect(g.metadata.size).toBe(42)
    expect(g.headCountKv).toEqual(Array.from({ length: 30 }, (_, i) => (i % 6 === 5 ? 2 : 8)))
    expect(list(g, 'gemma4.attention.sliding_window_pattern')).toEqual(Array.from({ length: 30 }, (_, i) => i % 6 !== 5))
    const tokens = strings(g, 'tokenizer.ggml.tokens')
    expect([tokens.length, tokens.at(0), tokens.at(131072), tokens.at(262143)]).toEqual([
      262144,
      '<pad>',
      '\u2581Leh',
      '<unused6226>',
    ])
    expect(strings(g, 'tokenizer.ggml.merges').length).toBe(514906)
    expect((g.metadata.get('tokenizer.chat_template') as string).length).toBe(12045)
  })

  it('every models/ggml-vocab-*.gguf: one entry per token in each token table, special ids inside it', async () => {
    const files = readdirSync(path.join(inject('llamaSrc'), 'models')).filter((f) => /^ggml-vocab-.*\.gguf$/.test(f))
    expect(files.length).toBeGreaterThanOrEqual(15)
    for (const f of files) {
      const g = await readGguf(path.join(inject('llamaSrc'), 'models', f))
      const n = strings(g, 'tokenizer.ggml.tokens').length
      expect(g.architecture, f).toMatch(/^[a-z0-9-]+$/)
      expect(g.contextLength, f).toBeGreaterThan(0)
      expect(list(g, 'tokenizer.ggml.token_type').length, f).toBe(n)
      if (g.metadata.has('tokenizer.ggml.scores')) expect(list(g, 'tokenizer.ggml.scores').length, f).toBe(n)
      for (const key of ['bos', 'eos', 'unknown', 'padding'].map((k) => `tokenizer.ggml.${k}_token_id`)) {
        if (g.metadata.has(key)) expect(g.metadata.get(key), `${f} ${key}`).toBeLessThan(n)
      }
    }
  })
})

describe('llama-server runs the tiny model', () => {
  let chat: LlamaServer
  let embed: LlamaServer
  let model: GgufFile

  beforeAll(async () => {
    model = await readGguf(inject('tinyModel'))
    ;[chat, embed] = await Promise.all([
      startLlamaServer(inject('llamaServer'), inject('tinyModel'), ['-c', '2048', '-np', '1']),
      startLlamaServer(inject('llamaServer'), inject('tinyModel'), [
        '--embeddings',
        '--pooling',
        'mean',
        '-c',
        '2048',
        '-np',
        '1',
      ]),
    ])
  })
  afterAll(async () => {
    await Promise.all([chat?.stop(), embed?.stop()])
  })

  async function post<T>(server: LlamaServer, route: string, body: unknown): Promise<T> {
    const res = await fetch(`${server.url}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    expect(res.status, await res.clone().text()).toBe(200)
    return (await res.json()) as T
  }
  interface Chat {
    choices: Array<{ message: { content: string }; finish_reason: string }>
    usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number }
  }

  it('sees the shape, parameter count and chat template the reader sees', async () => {
    const models = (await (await fetch(`${chat.url}/v1/models`)).json()) as { data: Array<{ meta: Record<string, unknown> }> }
    expect(models.data[0]!.meta).toMatchObject({
      n_vocab: strings(model, 'tokenizer.ggml.tokens').length,
      n_ctx_train: model.contextLength,
      n_embd: model.embeddingLength,
      n_params: model.parameterCount,
      size: model.quantization.F32,
      ftype: 'all F32',
    })
    const props = (await (await fetch(`${chat.url}/props`)).json()) as Record<string, unknown>
    expect(props).toMatchObject({ chat_template: CHATML_TEMPLATE, bos_token: '<s>', eos_token: '</s>' })
  })

  it('answers /v1/chat/completions with text until max_tokens, and usage', async () => {
    const body = await post<Chat>(chat, '/v1/chat/completions', {
      messages: [{ role: 'user', content: 'Hello, tiny llama' }],
      max_tokens: 16,
    })
    expect(body.choices[0]!.message.content).toMatch(/\S/)
    expect(body.choices[0]!.finish_reason).toBe('length')
    expect(body.usage.completion_tokens).toBe(16)
    expect(body.usage.prompt_tokens).toBeGreaterThan(5)
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + 16)
  })

  it('answers /completion', async () => {
    const body = await post<{ content: string; tokens_predicted: number }>(chat, '/completion', {
      prompt: 'The tiny model',
      n_predict: 16,
    })
    expect(body.content).toMatch(/\S/)
    expect(body.tokens_predicted).toBe(16)
  })

  it('answers /v1/embeddings with one n_embd vector per input', async () => {
    const body = await post<{ data: Array<{ embedding: number[] }> }>(embed, '/v1/embeddings', {
      input: ['hello world', 'the tiny llama'],
    })
    const vectors = body.data.map((d) => d.embedding)
    expect(vectors.map((v) => v.length)).toEqual([model.embeddingLength, model.embeddingLength])
    for (const v of vectors) expect(Math.hypot(...v)).toBeCloseTo(1, 3) // llama-server L2-normalizes by default
    expect(vectors[0]).not.toEqual(vectors[1])
  })
})
