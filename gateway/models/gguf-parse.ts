import { GGML_TYPES } from './ggml-types.js'

/** GGUF metadata value types (ggml/include/gguf.h, enum gguf_type). */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const
export type GgufValueType = (typeof GgufValueType)[keyof typeof GgufValueType]

/** 64-bit integers are bigints, other numbers numbers; arrays of strings are decoded lazily; arrays may nest. */
export type GgufValue = number | bigint | boolean | string | GgufStringArray | GgufValue[]

export interface GgufTensorInfo {
  name: string
  /** ne0 first, as stored: token_embd.weight of a llama model is [n_embd, n_vocab]. */
  dims: number[]
  /** ggml type name, e.g. `Q4_K`. */
  type: string
  typeId: number
  /** Byte offset of the data, relative to the data section (`GgufHeader.dataOffset`). */
  offset: number
  elements: number
  /** Bytes of data, from the type's block and type size. */
  size: number
}

export interface GgufHeader {
  version: number
  alignment: number
  /** Absolute file offset of the tensor data section. */
  dataOffset: number
  metadata: Map<string, GgufValue>
  tensors: GgufTensorInfo[]
}

export const GGUF_MAGIC = 0x46554747 // "GGUF" read as a little-endian uint32
const DEFAULT_ALIGNMENT = 32
const MAX_DIMS = 4

/** Thrown when the buffer ends before the header does and more of the file could be read. */
export class NeedMoreBytes {
  constructor(readonly end: number) {}
}

/** The file is not usable; `message` says what is wrong without the path, which the caller adds. */
export class GgufFormatError extends Error {
  constructor(
    readonly reason: 'not_gguf' | 'unsupported_version' | 'truncated' | 'invalid',
    message: string,
  ) {
    super(message)
    this.name = 'GgufFormatError'
  }
}

const invalid = (message: string) => new GgufFormatError('invalid', message)

type Get = (view: DataView, at: number) => GgufValue
const FIXED = new Map<number, { size: number; get: Get }>([
  [GgufValueType.UINT8, { size: 1, get: (v, at) => v.getUint8(at) }],
  [GgufValueType.INT8, { size: 1, get: (v, at) => v.getInt8(at) }],
  [GgufValueType.UINT16, { size: 2, get: (v, at) => v.getUint16(at, true) }],
  [GgufValueType.INT16, { size: 2, get: (v, at) => v.getInt16(at, true) }],
  [GgufValueType.UINT32, { size: 4, get: (v, at) => v.getUint32(at, true) }],
  [GgufValueType.INT32, { size: 4, get: (v, at) => v.getInt32(at, true) }],
  [GgufValueType.FLOAT32, { size: 4, get: (v, at) => v.getFloat32(at, true) }],
  [GgufValueType.BOOL, { size: 1, get: getBool }],
  [GgufValueType.UINT64, { size: 8, get: (v, at) => v.getBigUint64(at, true) }],
  [GgufValueType.INT64, { size: 8, get: (v, at) => v.getBigInt64(at, true) }],
  [GgufValueType.FLOAT64, { size: 8, get: (v, at) => v.getFloat64(at, true) }],
])

function getBool(view: DataView, at: number): boolean {
  const b = view.getUint8(at)
  if (b > 1) throw invalid(`bool value ${b} is neither 0 nor 1`)
  return b === 1
}

class Cursor {
  pos = 0
  readonly view: DataView

  constructor(
    readonly buf: Buffer,
    /** True when `buf` ends where the file ends. */
    private readonly complete: boolean,
    private readonly fileSize: number,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  take(n: number): number {
    const at = this.pos
    if (at + n > this.buf.length) {
      if (this.complete) throw new GgufFormatError('truncated', `truncated: needs ${at + n} bytes, the file has ${this.fileSize}`)
      throw new NeedMoreBytes(at + n)
    }
    this.pos = at + n
    return at
  }

  u32(): number {
    return this.view.getUint32(this.take(4), true)
  }

  /** A uint64 count or offset, as a number (two uint32 reads: a bigint per string slows big vocabularies down). */
  size(what: string): number {
    const at = this.take(8)
    const hi = this.view.getUint32(at + 4, true)
    if (hi > 0x1fffff) throw invalid(`${what} ${this.view.getBigUint64(at, true)} is out of range`)
    return hi * 2 ** 32 + this.view.getUint32(at, true)
  }

  /**
   * A count of items of at least `minBytes` each, checked against the rest of the file before anything is
   * allocated: a count that cannot fit is a cut-off file (or a corrupt one, which reads the same).
   */
  count(what: string, minBytes: number): number {
    const n = this.size(what)
    const left = this.fileSize - this.pos
    if (n * minBytes > left) {
      throw new GgufFormatError('truncated', `truncated: ${what} ${n} needs at least ${n * minBytes} bytes, ${left} are left`)
    }
    return n
  }

  string(): string {
    const n = this.count('string length', 1)
    const at = this.take(n)
    return this.buf.toString('utf8', at, at + n)
  }
}

/**
 * A GGUF array of strings, decoded on access: decoding a 256k-token vocabulary and its merges string by string
 * takes most of a second, while most readers want only the metadata around it, or the token count.
 */
export class GgufStringArray implements Iterable<string> {
  private offsets: Float64Array | undefined

  constructor(
    /** The array's bytes in the file: a uint64 length before each UTF-8 string. */
    private readonly bytes: Buffer,
    readonly length: number,
  ) {}

  at(index: number): string | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) return undefined
    const offsets = (this.offsets ??= this.index())
    return this.bytes.toString('utf8', offsets[index]! + 8, offsets[index + 1])
  }

  *[Symbol.iterator](): Iterator<string> {
    for (let i = 0; i < this.length; i++) yield this.at(i)!
  }

  toArray(): string[] {
    return Array.from(this)
  }

  private index(): Float64Array {
    const offsets = new Float64Array(this.length + 1)
    let pos = 0
    for (let i = 0; i < this.length; i++) {
      offsets[i] = pos
      pos += 8 + this.bytes.readUInt32LE(pos) + this.bytes.readUInt32LE(pos + 4) * 2 ** 32
    }
    offsets[this.length] = pos
    return offsets
  }
}

function readValue(c: Cursor, type: number): GgufValue {
  const fixed = FIXED.get(type)
  if (fixed) return fixed.get(c.view, c.take(fixed.size))
  if (type === GgufValueType.STRING) return c.string()
  if (type === GgufValueType.ARRAY) return readArray(c)
  throw invalid(`unknown value type ${type}`)
}

function readArray(c: Cursor): GgufValue {
  const type = c.u32()
  const fixed = FIXED.get(type)
  if (fixed) {
    const n = c.count('array length', fixed.size)
    const at = c.take(n * fixed.size)
    const out = new Array<GgufValue>(n)
    for (let i = 0; i < n; i++) out[i] = fixed.get(c.view, at + i * fixed.size)
    return out
  }
  if (type === GgufValueType.STRING) {
    const n = c.count('array length', 8)
    const start = c.pos
    for (let i = 0; i < n; i++) c.take(c.count('string length', 1))
    return new GgufStringArray(c.buf.subarray(start, c.pos), n)
  }
  if (type === GgufValueType.ARRAY) {
    const n = c.count('array length', 12)
    return Array.from({ length: n }, () => readArray(c))
  }
  throw invalid(`unknown array element type ${type}`)
}

function readVersion(c: Cursor): number {
  const magic = c.u32()
  if (magic !== GGUF_MAGIC)
    throw new GgufFormatError('not_gguf', `not a GGUF file (magic ${describeMagic(magic)}, expected "GGUF")`)
  const version = c.u32()
  // A big-endian file reads as e.g. 0x03000000 here (llama.cpp's gguf.cpp makes the same check).
  if ((version & 0xffff) === 0 && version !== 0) {
    throw new GgufFormatError('unsupported_version', `unsupported GGUF version ${version}: big-endian files are not supported`)
  }
  if (version !== 2 && version !== 3) {
    throw new GgufFormatError('unsupported_version', `unsupported GGUF version ${version} (supported: 2, 3)`)
  }
  return version
}

function describeMagic(magic: number): string {
  const bytes = [0, 8, 16, 24].map((shift) => (magic >>> shift) & 0xff)
  const printable = bytes.every((b) => b >= 0x20 && b < 0x7f)
  return printable
    ? JSON.stringify(String.fromCharCode(...bytes))
    : `0x${bytes.map((b) => b.toString(16).padStart(2, '0')).join('')}`
}

function readMetadata(c: Cursor, count: number): Map<string, GgufValue> {
  const metadata = new Map<string, GgufValue>()
  for (let i = 0; i < count; i++) {
    const key = c.string()
    if (metadata.has(key)) throw invalid(`duplicate metadata key "${key}"`)
    metadata.set(key, readValue(c, c.u32()))
  }
  return metadata
}

function readTensorInfo(c: Cursor): GgufTensorInfo {
  const name = c.string()
  const nDims = c.u32()
  if (nDims > MAX_DIMS) throw invalid(`tensor "${name}" has ${nDims} dimensions (at most ${MAX_DIMS})`)
  const dims = Array.from({ length: nDims }, () => c.size(`tensor "${name}" dimension`))
  const typeId = c.u32()
  const offset = c.size(`tensor "${name}" offset`)
  const type = GGML_TYPES.get(typeId)
  if (!type) throw invalid(`tensor "${name}" has unknown ggml type ${typeId}`)
  const elements = dims.reduce((a, b) => a * b, 1)
  if (!Number.isSafeInteger(elements)) throw invalid(`tensor "${name}" has too many elements`)
  if ((dims[0] ?? 1) % type.blockSize !== 0) {
    throw invalid(
      `tensor "${name}" of type ${type.name} has rows of ${dims[0]}, not a multiple of its block size ${type.blockSize}`,
    )
  }
  return { name, dims, type: type.name, typeId, offset, elements, size: (elements / type.blockSize) * type.typeSize }
}

function readAlignment(metadata: Map<string, GgufValue>): number {
  const value = metadata.get('general.alignment') ?? DEFAULT_ALIGNMENT
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || (value & (value - 1)) !== 0) {
    throw invalid(`general.alignment must be a uint32 power of 2, not ${String(value)}`)
  }
  return value
}

const padTo = (n: number, alignment: number) => Math.ceil(n / alignment) * alignment

/**
 * Parses the header, metadata and tensor table at the start of a GGUF file (v2 or v3, little-endian).
 * `complete` says that `buf` is the whole file; otherwise running out of bytes throws `NeedMoreBytes`.
 */
export function parseGgufHeader(buf: Buffer, complete: boolean, fileSize: number): GgufHeader {
  const c = new Cursor(buf, complete, fileSize)
  const version = readVersion(c)
  const tensorCount = c.count('tensor count', 24)
  const kvCount = c.count('metadata count', 13)
  const metadata = readMetadata(c, kvCount)
  const tensors: GgufTensorInfo[] = []
  const names = new Set<string>()
  for (let i = 0; i < tensorCount; i++) {
    const tensor = readTensorInfo(c)
    if (names.has(tensor.name)) throw invalid(`duplicate tensor name "${tensor.name}"`)
    names.add(tensor.name)
    tensors.push(tensor)
  }
  const alignment = readAlignment(metadata)
  const dataOffset = tensorCount > 0 ? padTo(c.pos, alignment) : c.pos
  checkLayout(tensors, alignment, dataOffset, fileSize)
  return { version, alignment, dataOffset, metadata, tensors }
}

// llama.cpp requires each tensor to start where the previous one ends, padded to the alignment.
function checkLayout(tensors: GgufTensorInfo[], alignment: number, dataOffset: number, fileSize: number): void {
  let expected = 0
  for (const t of tensors) {
    if (t.offset !== expected) throw invalid(`tensor "${t.name}" has offset ${t.offset}, expected ${expected}`)
    expected += padTo(t.size, alignment)
  }
  const last = tensors.at(-1)
  const end = last ? dataOffset + last.offset + last.size : dataOffset
  if (end > fileSize) {
    throw new GgufFormatError('truncated', `truncated: the tensor data ends at byte ${end}, the file has ${fileSize}`)
  }
}
