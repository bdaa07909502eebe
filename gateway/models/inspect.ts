import { stat } from 'node:fs/promises'
import path from 'node:path'
import type { GgufGpuEstimate, GgufInspectView } from '../contract/console.js'
import { CortexError, quoted } from '../contract/errors.js'
import { estimateLlamaCpp } from './estimate.js'
import { GgufError, readGguf, type GgufFile } from './gguf.js'

/**
 * A GGUF file on this machine as the first-run screen shows it, read from its header (the tensor data is never
 * read). Anything that keeps it from being read is `invalid_request` with param `path`, naming the path (cut to
 * 200 characters) and what to do.
 */
export async function inspectGguf(file: string): Promise<GgufInspectView> {
  const refuse = (why: string) => new CortexError('invalid_request', `${quoted(file)} ${why}`, { param: 'path' })
  if (!path.isAbsolute(file)) throw refuse('is not an absolute path: give the full path of the .gguf file')
  const info = await stat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw refuse('does not exist on this machine: check the path')
    if (err.code === 'ENAMETOOLONG') throw refuse('is longer than a path may be here: check it')
    throw refuse(`cannot be read (${err.code ?? err.message}): check its permissions`)
  })
  if (info.isDirectory()) throw refuse('is a directory: give the path of a .gguf file inside it')
  if (!info.isFile()) throw refuse('is not a regular file: give the path of a .gguf file')
  let gguf: GgufFile
  try {
    gguf = await readGguf(file)
  } catch (err) {
    if (err instanceof GgufError) throw refuse(readProblem(err))
    const code = (err as NodeJS.ErrnoException).code
    if (code !== undefined) throw refuse(`cannot be read (${code}): check its permissions`)
    throw err
  }
  const name = gguf.metadata.get('general.name')
  return {
    path: file,
    sizeBytes: gguf.fileSize,
    architecture: gguf.architecture ?? 'unknown',
    name: typeof name === 'string' && name !== '' ? name : null,
    parameters: gguf.tensorCount > 0 ? gguf.parameterCount : null,
    quantization: gguf.fileType,
    contextLength: gguf.contextLength,
    gpuEstimate: defaultEstimate(gguf),
  }
}

function readProblem(err: GgufError): string {
  switch (err.reason) {
    case 'not_gguf':
      return 'is not a GGUF file: choose a .gguf model file (llama.cpp format)'
    case 'truncated':
      return 'is a GGUF file cut short (an unfinished download?): download it again'
    case 'unsupported_version':
      return `is a GGUF version this Cortex cannot read (${err.message.slice(err.path.length + 2)})`
    default:
      return `is not a valid GGUF file (${err.message.slice(err.path.length + 2)})`
  }
}

/** llama-server's default settings on one GPU; null when the header lacks the shape the estimate needs. */
function defaultEstimate(gguf: GgufFile): GgufGpuEstimate | null {
  if (gguf.tensorCount === 0) return null
  try {
    const e = estimateLlamaCpp(gguf)
    return {
      totalBytes: e.totalBytes,
      weightsBytes: e.weightsBytes,
      kvCacheBytes: e.kvCacheBytes,
      computeBytes: e.computeBytes,
      overheadBytes: e.overheadBytes,
      contextTokens: e.context.nCtx,
      slots: e.context.slots,
      notes: e.notes,
    }
  } catch (err) {
    // modelShape throws for a header it cannot lay out (no block count, an unknown tensor type): no figure to give.
    if (!(err instanceof Error)) throw err
    return null
  }
}
