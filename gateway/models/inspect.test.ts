import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { encodeGguf, tinyLlamaSpec } from '../../test/support/gguf-writer.js'
import { CortexError } from '../contract/errors.js'
import { inspectGguf } from './inspect.js'

const dir = mkdtempSync(path.join(tmpdir(), 'cortex-inspect-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const tiny = tinyLlamaSpec({ contextLength: 4096, name: 'Tiny Llama' })
const bytes = encodeGguf(tiny.spec)
const model = path.join(dir, 'tiny.gguf')
writeFileSync(model, bytes)

async function refusal(p: string): Promise<CortexError> {
  const err = await inspectGguf(p).then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(CortexError)
  expect(err).toMatchObject({ code: 'invalid_request', status: 400, details: { param: 'path' } })
  return err as CortexError
}

describe('inspectGguf', () => {
  it('reads architecture, name, parameters, quantization, context and size from the header, and estimates GPU memory', async () => {
    const view = await inspectGguf(model)
    const parameters = tiny.spec.tensors!.reduce((n, t) => n + t.dims.reduce((a, b) => a * b, 1), 0)
    expect(view).toMatchObject({
      path: model,
      sizeBytes: bytes.length,
      architecture: 'llama',
      name: 'Tiny Llama',
      parameters,
      quantization: 'F32',
      contextLength: 4096,
    })
    // llama-server's defaults: -c unset gives each of the 4 slots the trained context.
    expect(view.gpuEstimate).toMatchObject({ contextTokens: 4 * 4096, slots: 4 })
    const e = view.gpuEstimate!
    expect(e.weightsBytes).toBeGreaterThan(0)
    expect(e.kvCacheBytes).toBeGreaterThan(0)
    expect(e.totalBytes).toBe(e.weightsBytes + e.kvCacheBytes + e.computeBytes + e.overheadBytes)
  })

  it('a vocabulary-only GGUF (no tensors) has no parameters and no estimate', async () => {
    const vocabOnly = path.join(dir, 'vocab.gguf')
    writeFileSync(vocabOnly, encodeGguf({ metadata: tiny.spec.metadata, tensors: [] }))
    expect(await inspectGguf(vocabOnly)).toMatchObject({ architecture: 'llama', parameters: null, gpuEstimate: null })
  })

  it('refuses what is not a GGUF file on this machine, naming the path and what to do', async () => {
    expect((await refusal(path.join(dir, 'nope.gguf'))).message).toBe(
      `${JSON.stringify(path.join(dir, 'nope.gguf'))} does not exist on this machine: check the path`,
    )
    expect((await refusal(path.join(model, 'x.gguf'))).message).toMatch(/does not exist on this machine/)
    const folder = path.join(dir, 'models')
    mkdirSync(folder)
    expect((await refusal(folder)).message).toBe(
      `${JSON.stringify(folder)} is a directory: give the path of a .gguf file inside it`,
    )
    const text = path.join(dir, 'notes.txt')
    writeFileSync(text, 'not a model\n')
    expect((await refusal(text)).message).toMatch(/notes\.txt" is not a GGUF file: choose a \.gguf model file/)
    const cut = path.join(dir, 'cut.gguf')
    writeFileSync(cut, bytes)
    truncateSync(cut, 100)
    expect((await refusal(cut)).message).toMatch(/cut\.gguf" is a GGUF file cut short .*download it again/)
    expect((await refusal('models/tiny.gguf')).message).toBe(
      '"models/tiny.gguf" is not an absolute path: give the full path of the .gguf file',
    )
  })

  it('cuts a long path to 200 characters in the message', async () => {
    const long = `/${'m'.repeat(5000)}.gguf`
    const { message } = await refusal(long)
    expect(message.length).toBeLessThan(300)
    expect(message).toContain(`(${long.length} characters)`)
    expect(message).toMatch(/is longer than a path may be here/)
  })
})
