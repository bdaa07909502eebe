import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { encodeGguf, gguf, type GgufSpec, type GgufTensorSpec } from '../../test/support/gguf-writer.js'
import { GGML_TYPES, GgufError, GgufStringArray, GgufValueType as V, fileTypeName, readGguf } from './gguf.js'

const dir = mkdtempSync(path.join(tmpdir(), 'cortex-gguf-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
function file(bytes: Buffer): string {
  const p = path.join(dir, `${n++}.gguf`)
  writeFileSync(p, bytes)
  return p
}
const write = (spec: GgufSpec) => file(encodeGguf(spec))

/** `readGguf`'s rejection, for asserting on `reason` and `message`. */
async function failure(p: string): Promise<GgufError> {
  const err = await readGguf(p).then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(GgufError)
  return err as GgufError
}

describe('GGML_TYPES', () => {
  it('matches ggml_blck_size and ggml_type_size of llama.cpp 3.22.1 for every type', () => {
    // Printed by a C program linked against that build's libggml-base: id name blck_size type_size.
    const printed =
      '0 f32 1 4;1 f16 1 2;2 q4_0 32 18;3 q4_1 32 20;6 q5_0 32 22;7 q5_1 32 24;8 q8_0 32 34;9 q8_1 32 36;10 q2_K 256 84;' +
      '11 q3_K 256 110;12 q4_K 256 144;13 q5_K 256 176;14 q6_K 256 210;15 q8_K 256 292;16 iq2_xxs 256 66;17 iq2_xs 256 74;' +
      '18 iq3_xxs 256 98;19 iq1_s 256 50;20 iq4_nl 32 18;21 iq3_s 256 110;22 iq2_s 256 82;23 iq4_xs 256 136;24 i8 1 1;' +
      '25 i16 1 2;26 i32 1 4;27 i64 1 8;28 f64 1 8;29 iq1_m 256 56;30 bf16 1 2;34 tq1_0 256 54;35 tq2_0 256 66;' +
      '39 mxfp4 32 17;40 nvfp4 64 36;41 q1_0 128 18;42 q2_0 64 18'
    const expected = printed.split(';').map((row) => {
      const [id, name, blockSize, typeSize] = row.split(' ')
      return { id: Number(id), name: name!.toUpperCase(), blockSize: Number(blockSize), typeSize: Number(typeSize) }
    })
    expect([...GGML_TYPES.values()]).toEqual(expected)
  })
})

describe('fileTypeName', () => {
  it.each([
    [0, 'F32'],
    [1, 'F16'],
    [7, 'Q8_0'],
    [15, 'Q4_K_M'],
    [18, 'Q6_K'],
    [32, 'BF16'],
    [38, 'MXFP4_MOE'],
    [1024, 'GUESSED'],
  ])('names llama_ftype %i %s', (id, name) => expect(fileTypeName(id)).toBe(name))

  it('is null for ids llama.cpp removed or never had', () => {
    expect(fileTypeName(4)).toBeNull()
    expect(fileTypeName(33)).toBeNull()
    expect(fileTypeName(999)).toBeNull()
  })
})

describe('readGguf', () => {
  it('reads every metadata value type back as written', async () => {
    const metadata = {
      u8: gguf.u8(255),
      i8: gguf.i8(-128),
      u16: gguf.u16(65535),
      i16: gguf.i16(-32768),
      u32: gguf.u32(4294967295),
      i32: gguf.i32(-2147483648),
      f32: gguf.f32(0.1),
      f64: gguf.f64(0.1),
      u64: gguf.u64(18446744073709551615n),
      i64: gguf.i64(-9223372036854775808n),
      yes: gguf.bool(true),
      no: gguf.bool(false),
      text: gguf.str('▁héllo 🦙'),
      empty: gguf.str(''),
      floats: gguf.array({ type: V.FLOAT32, values: [1.5, -2.25] }),
      u64s: gguf.array({ type: V.UINT64, values: [0n, 2n ** 40n] }),
      bools: gguf.array({ type: V.BOOL, values: [true, false] }),
      none: gguf.array({ type: V.INT32, values: [] }),
      nested: gguf.array({
        type: V.ARRAY,
        values: [
          { type: V.STRING, values: ['a', 'b'] },
          { type: V.INT16, values: [-1] },
        ],
      }),
    }
    const g = await readGguf(write({ metadata }))
    const m = g.metadata
    expect([m.get('u8'), m.get('i8'), m.get('u16'), m.get('i16'), m.get('u32'), m.get('i32')]).toEqual([
      255, -128, 65535, -32768, 4294967295, -2147483648,
    ])
    expect(m.get('f32')).toBe(Math.fround(0.1))
    expect(m.get('f64')).toBe(0.1)
    expect(m.get('u64')).toBe(18446744073709551615n)
    expect(m.get('i64')).toBe(-9223372036854775808n)
    expect([m.get('yes'), m.get('no'), m.get('text'), m.get('empty')]).toEqual([true, false, '▁héllo 🦙', ''])
    expect(m.get('floats')).toEqual([1.5, -2.25])
    expect(m.get('u64s')).toEqual([0n, 2n ** 40n])
    expect(m.get('bools')).toEqual([true, false])
    expect(m.get('none')).toEqual([])
    const [strings, shorts] = m.get('nested') as [GgufStringArray, number[]]
    expect(strings.toArray()).toEqual(['a', 'b'])
    expect(shorts).toEqual([-1])
    expect([...m.keys()]).toEqual(Object.keys(metadata))
  })

  it('lists tensors with their shape, type, offset and size, and the data section after the aligned header', async () => {
    const tensors: GgufTensorSpec[] = [
      { name: 'a', dims: [3], type: 0 },
      { name: 'b', dims: [256, 2], type: 12 },
      { name: 'c', dims: [64, 3, 2], type: 8 },
      { name: 'd', dims: [5, 1, 1, 2], type: 30 },
    ]
    const p = write({ metadata: { 'general.architecture': gguf.str('x') }, tensors, alignment: 64 })
    const g = await readGguf(p)
    expect(g.alignment).toBe(64)
    expect(g.dataOffset % 64).toBe(0)
    expect(g.tensorCount).toBe(4)
    expect(g.tensors).toEqual([
      { name: 'a', dims: [3], type: 'F32', typeId: 0, offset: 0, elements: 3, size: 12 },
      { name: 'b', dims: [256, 2], type: 'Q4_K', typeId: 12, offset: 64, elements: 512, size: 2 * 144 },
      { name: 'c', dims: [64, 3, 2], type: 'Q8_0', typeId: 8, offset: 64 + 320, elements: 384, size: 12 * 34 },
      { name: 'd', dims: [5, 1, 1, 2], type: 'BF16', typeId: 30, offset: 64 + 320 + 448, elements: 10, size: 20 },
    ])
  })

  it('derives architecture, sizes, parameter count, file type and bytes per type', async () => {
    const g = await readGguf(
      write({
        metadata: {
          'general.architecture': gguf.str('gemma4'),
          'general.file_type': gguf.u32(15),
          'gemma4.context_length': gguf.u64(131072n),
          'gemma4.block_count': gguf.u32(3),
          'gemma4.embedding_length': gguf.u32(256),
          'gemma4.attention.head_count': gguf.u32(8),
          'gemma4.attention.head_count_kv': gguf.array({ type: V.INT32, values: [4, 4, 1] }),
        },
        tensors: [
          { name: 'w1', dims: [256, 4], type: 12 },
          { name: 'w2', dims: [256, 2], type: 14 },
          { name: 'w3', dims: [256, 2], type: 12 },
          { name: 'norm', dims: [256], type: 0 },
        ],
      }),
    )
    expect(g).toMatchObject({
      architecture: 'gemma4',
      contextLength: 131072,
      blockCount: 3,
      embeddingLength: 256,
      headCount: 8,
      headCountKv: [4, 4, 1],
      parameterCount: 256 * 9,
      fileType: 'Q4_K_M',
      quantization: { Q4_K: 6 * 144, Q6_K: 2 * 210, F32: 1024 },
    })
  })

  it('leaves facts the file does not state null', async () => {
    const g = await readGguf(write({ metadata: { 'general.file_type': gguf.u32(999) } }))
    expect(g).toMatchObject({
      architecture: null,
      contextLength: null,
      blockCount: null,
      embeddingLength: null,
      headCount: null,
      headCountKv: null,
      fileType: null,
      parameterCount: 0,
      quantization: {},
    })
  })

  it('reads GGUF v2', async () => {
    const g = await readGguf(write({ version: 2, metadata: { k: gguf.u32(7) }, tensors: [{ name: 't', dims: [2] }] }))
    expect(g.version).toBe(2)
    expect(g.metadata.get('k')).toBe(7)
    expect(g.tensors[0]!.dims).toEqual([2])
  })

  it('reads a header larger than its first read (1 MiB), with a string array decoded on access', async () => {
    const tokens = Array.from({ length: 100_000 }, (_, i) => (i % 3 === 0 ? `▁token number ${i}` : `token number ${i}`))
    const g = await readGguf(
      write({
        metadata: { 'tokenizer.ggml.tokens': gguf.strings(tokens), after: gguf.u32(42) },
        tensors: [{ name: 't', dims: [4] }],
      }),
    )
    const read = g.metadata.get('tokenizer.ggml.tokens') as GgufStringArray
    expect(read).toBeInstanceOf(GgufStringArray)
    expect(read.length).toBe(100_000)
    expect([read.at(0), read.at(1), read.at(99_999), read.at(100_000), read.at(-1)]).toEqual([
      '▁token number 0',
      'token number 1',
      '▁token number 99999',
      undefined,
      undefined,
    ])
    expect(read.toArray()).toEqual(tokens)
    expect(g.metadata.get('after')).toBe(42)
    expect(g.tensors[0]!.name).toBe('t')
  })

  it('handles offsets beyond 4 GiB', async () => {
    const spec: GgufSpec = {
      metadata: {},
      tensors: [
        { name: 'big', dims: [2 ** 30, 1] },
        { name: 'after', dims: [8] },
      ],
    }
    const header = encodeGguf(spec, { headerOnly: true })
    const p = file(header)
    truncateSync(p, header.length + 2 ** 32 + 32) // sparse: 4 GiB of data that is never written, nor read
    const g = await readGguf(p)
    expect(g.tensors.map((t) => [t.name, t.offset, t.size])).toEqual([
      ['big', 0, 2 ** 32],
      ['after', 2 ** 32, 32],
    ])
    expect(g.parameterCount).toBe(2 ** 30 + 8)
  })
})

describe('readGguf rejects', () => {
  const valid = () => encodeGguf({ metadata: { k: gguf.u8(1) }, tensors: [{ name: 't', dims: [8] }] })
  // Header: magic 4, version 4, tensor count 8, kv count 8; key "k" (8 + 1), its type (4) and value (1);
  // then tensor "t" (8 + 1), its dimension count (4), one dimension (8) and its type.
  const KV_TYPE = 24 + 9
  const TENSOR_TYPE = KV_TYPE + 4 + 1 + 9 + 4 + 8
  const patched = (at: number, write: (b: Buffer) => void) => {
    const b = valid()
    write(b.subarray(at))
    return file(b)
  }

  it('a file that is not GGUF, naming the file and its magic', async () => {
    const p = file(Buffer.from('GGML and then some bytes'))
    const err = await failure(p)
    expect(err.reason).toBe('not_gguf')
    expect(err.message).toBe(`${p}: not a GGUF file (magic "GGML", expected "GGUF")`)
    expect((await failure(file(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0])))).message).toContain('(magic 0x504b0304,')
  })

  it('an empty file, one cut anywhere in its header or data, and a count larger than the file as truncated', async () => {
    const bytes = valid()
    expect((await failure(file(Buffer.alloc(0)))).message).toMatch(/: truncated: needs 4 bytes, the file has 0$/)
    for (const cut of [6, 20, 30, KV_TYPE + 2, bytes.length - 40, bytes.length - 1]) {
      const err = await failure(file(bytes.subarray(0, cut)))
      expect(err.reason, `cut at ${cut}`).toBe('truncated')
      expect(err.message).toMatch(/^.*\.gguf: truncated: /)
    }
    expect((await failure(file(bytes.subarray(0, bytes.length - 1)))).message).toContain(
      `truncated: the tensor data ends at byte ${bytes.length}, the file has ${bytes.length - 1}`,
    )
    expect((await failure(patched(8, (b) => b.writeBigUInt64LE(10n ** 9n)))).message).toContain(
      `truncated: tensor count 1000000000 needs at least 24000000000 bytes, ${bytes.length - 16} are left`,
    )
  })

  it.each([
    [1, 'unsupported GGUF version 1 (supported: 2, 3)'],
    [4, 'unsupported GGUF version 4 (supported: 2, 3)'],
    [0x03000000, 'unsupported GGUF version 50331648: big-endian files are not supported'],
  ])('version %i', async (version, message) => {
    const err = await failure(patched(4, (b) => b.writeUInt32LE(version)))
    expect(err.reason).toBe('unsupported_version')
    expect(err.message).toContain(message)
  })

  it.each([
    ['an unknown value type', KV_TYPE, (b: Buffer) => b.writeUInt32LE(13), 'unknown value type 13'],
    ['a bool that is neither 0 nor 1', KV_TYPE, (b: Buffer) => (b.writeUInt32LE(V.BOOL), b.writeUInt8(2, 4)), 'bool value 2'],
    [
      'a count beyond 2^53',
      16,
      (b: Buffer) => b.writeBigUInt64LE(2n ** 60n),
      'metadata count 1152921504606846976 is out of range',
    ],
    ['an unknown ggml type', TENSOR_TYPE, (b: Buffer) => b.writeUInt32LE(4), 'tensor "t" has unknown ggml type 4'],
    [
      'rows that are not whole blocks',
      TENSOR_TYPE,
      (b: Buffer) => b.writeUInt32LE(2),
      'rows of 8, not a multiple of its block size 32',
    ],
  ])('%s', async (_, at, write, message) => {
    const err = await failure(patched(at, write))
    expect(err.reason).toBe('invalid')
    expect(err.message).toContain(message)
  })

  it('tensors out of order, duplicate names and keys, and an alignment that is not a power of 2', async () => {
    const two = encodeGguf({
      metadata: {},
      tensors: [
        { name: 'a', dims: [8] },
        { name: 'b', dims: [8] },
      ],
    })
    two.writeBigUInt64LE(0n, two.indexOf('b', 24) + 1 + 4 + 8 + 4)
    expect((await failure(file(two))).message).toContain('tensor "b" has offset 0, expected 32')

    const dup = encodeGguf({
      metadata: {},
      tensors: [
        { name: 'a', dims: [8] },
        { name: 'b', dims: [8] },
      ],
    })
    dup.write('a', dup.indexOf('b', 24))
    expect((await failure(file(dup))).message).toContain('duplicate tensor name "a"')

    const keys = encodeGguf({ metadata: { a: gguf.u8(1), b: gguf.u8(2) } })
    keys.write('a', keys.indexOf('b', 24))
    expect((await failure(file(keys))).message).toContain('duplicate metadata key "a"')

    const odd = write({ metadata: { 'general.alignment': gguf.u32(48) }, tensors: [{ name: 't', dims: [8] }] })
    expect((await failure(odd)).message).toContain('general.alignment must be a uint32 power of 2, not 48')
  })

  it('a missing file with the fs error', async () => {
    await expect(readGguf(path.join(dir, 'nope.gguf'))).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
