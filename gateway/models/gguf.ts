import { open, type FileHandle } from 'node:fs/promises'
import { fileTypeName } from './ggml-types.js'
import {
  GgufFormatError,
  NeedMoreBytes,
  parseGgufHeader,
  type GgufHeader,
  type GgufTensorInfo,
  type GgufValue,
} from './gguf-parse.js'

export { GGML_TYPES, fileTypeName, type GgmlType } from './ggml-types.js'
export { GgufStringArray, GgufValueType, type GgufHeader, type GgufTensorInfo, type GgufValue } from './gguf-parse.js'

/** What Cortex needs to know about a model, derived from the metadata and the tensor table. */
export interface GgufFacts {
  /** general.architecture, e.g. `llama`, `qwen2`. */
  architecture: string | null
  /** `<arch>.context_length`: the trained context. */
  contextLength: number | null
  blockCount: number | null
  embeddingLength: number | null
  /** Per layer where the file stores an array (e.g. gemma4's head_count_kv). */
  headCount: number | number[] | null
  headCountKv: number | number[] | null
  /** Sum of the tensors' element counts (of this file only, for a split model's shard). */
  parameterCount: number
  /** general.file_type as llama.cpp names it (`F16`, `Q4_K_M`); null when absent or unknown. */
  fileType: string | null
  /** Bytes of tensor data by ggml type name, e.g. `{ Q4_K: 4.1e9, Q6_K: 6.8e8, F32: 2.6e5 }`. */
  quantization: Record<string, number>
}

export interface GgufFile extends GgufHeader, GgufFacts {
  path: string
  fileSize: number
  tensorCount: number
}

/** A file that is not a readable GGUF; `reason` lets callers tell "not a model" from "half downloaded". */
export class GgufError extends Error {
  constructor(
    readonly path: string,
    readonly reason: GgufFormatError['reason'],
    message: string,
  ) {
    super(`${path}: ${message}`)
    this.name = 'GgufError'
  }
}

// Most headers fit in 1 MiB; a 256k-token vocabulary with its merges takes ~15 MiB.
const FIRST_READ = 1 << 20

/** Reads the header, metadata and tensor table of a GGUF file; the tensor data is never read. */
export async function readGguf(path: string): Promise<GgufFile> {
  const fh = await open(path, 'r')
  try {
    const { size: fileSize } = await fh.stat()
    const header = await readHeader(fh, path, fileSize)
    return { path, fileSize, tensorCount: header.tensors.length, ...header, ...deriveFacts(header.metadata, header.tensors) }
  } finally {
    await fh.close()
  }
}

// Parses what has been read so far; when the header runs past it, reads four times as much and parses again.
async function readHeader(fh: FileHandle, path: string, fileSize: number): Promise<GgufHeader> {
  let buf: Buffer = Buffer.alloc(0)
  let length = Math.min(fileSize, FIRST_READ)
  for (;;) {
    buf = await extend(fh, buf, length)
    try {
      return parseGgufHeader(buf, length === fileSize, fileSize)
    } catch (err) {
      if (err instanceof GgufFormatError) throw new GgufError(path, err.reason, err.message)
      if (!(err instanceof NeedMoreBytes)) throw err
      length = Math.min(fileSize, Math.max(length * 4, err.end))
    }
  }
}

async function extend(fh: FileHandle, prefix: Buffer, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length)
  prefix.copy(buf)
  let at = prefix.length
  while (at < length) {
    const { bytesRead } = await fh.read(buf, at, length - at, at)
    if (bytesRead === 0) break
    at += bytesRead
  }
  return at === length ? buf : buf.subarray(0, at)
}

/** The facts of a parsed header; pure. */
export function deriveFacts(metadata: ReadonlyMap<string, GgufValue>, tensors: readonly GgufTensorInfo[]): GgufFacts {
  const architecture = metadata.get('general.architecture')
  const arch = typeof architecture === 'string' ? architecture : null
  const archKey = (key: string) => (arch === null ? undefined : metadata.get(`${arch}.${key}`))
  const fileType = asNumber(metadata.get('general.file_type'))
  return {
    architecture: arch,
    contextLength: asNumber(archKey('context_length')),
    blockCount: asNumber(archKey('block_count')),
    embeddingLength: asNumber(archKey('embedding_length')),
    headCount: asNumberOrList(archKey('attention.head_count')),
    headCountKv: asNumberOrList(archKey('attention.head_count_kv')),
    parameterCount: tensors.reduce((sum, t) => sum + t.elements, 0),
    fileType: fileType === null ? null : fileTypeName(fileType),
    quantization: bytesByType(tensors),
  }
}

function bytesByType(tensors: readonly GgufTensorInfo[]): Record<string, number> {
  const bytes: Record<string, number> = {}
  for (const t of tensors) bytes[t.type] = (bytes[t.type] ?? 0) + t.size
  return bytes
}

function asNumber(value: GgufValue | undefined): number | null {
  if (typeof value === 'number') return value
  if (typeof value === 'bigint' && value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER)) {
    return Number(value)
  }
  return null
}

function asNumberOrList(value: GgufValue | undefined): number | number[] | null {
  if (!Array.isArray(value)) return asNumber(value)
  const list = value.map(asNumber)
  return list.every((n): n is number => n !== null) ? list : null
}
