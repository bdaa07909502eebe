import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { encodeGguf, tinyLlamaSpec } from '../../../test/support/gguf-writer.js'
import { adminApp, auth } from './fakes.test-support.js'

const dir = mkdtempSync(path.join(tmpdir(), 'cortex-inspect-route-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const model = path.join(dir, 'tiny.gguf')
writeFileSync(model, encodeGguf(tinyLlamaSpec().spec))

const inspect = (body: unknown, headers: Record<string, string> = auth) =>
  adminApp().app.inject({ method: 'POST', url: '/admin/api/gguf/inspect', headers, payload: body as object })

describe('POST /admin/api/gguf/inspect', () => {
  it('answers the GGUF header’s facts and the GPU memory estimate', async () => {
    const res = await inspect({ path: model })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ path: model, architecture: 'llama', name: 'tiny-llama', contextLength: 2048 })
    expect(res.json().gpuEstimate.totalBytes).toBeGreaterThan(0)
  })

  it('refuses a directory with 400 invalid_request at path, naming it', async () => {
    const res = await inspect({ path: dir })
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toEqual({
      message: `${JSON.stringify(dir)} is a directory: give the path of a .gguf file inside it`,
      type: 'invalid_request_error',
      param: 'path',
      code: 'invalid_request',
    })
  })

  it('refuses a body without a path, or with more, at the field', async () => {
    const missing = await inspect({})
    expect(missing.statusCode).toBe(400)
    expect(missing.json().error).toMatchObject({ code: 'invalid_request', param: 'path' })
    const extra = await inspect({ path: model, follow: true })
    expect(extra.statusCode).toBe(400)
    expect(extra.json().error.code).toBe('invalid_request')
  })

  it('needs the admin token', async () => {
    expect((await inspect({ path: model }, {})).statusCode).toBe(401)
  })
})

describe('POST /admin/api/dry-run', () => {
  const draft = { name: 'draft', engine: 'llamacpp', runtime: 'process', source: '/m/d.gguf' }
  it('hands a schema-valid draft to the model service and answers its plan', async () => {
    const { app, models } = adminApp()
    const res = await app.inject({ method: 'POST', url: '/admin/api/dry-run', headers: auth, payload: draft })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ id: 'draft', name: 'draft' })
    expect(models.calls).toContainEqual(['dryRunDraft', 'draft'])
  })

  it.each([
    [{ ...draft, engine: 'llama' }, 'engine'],
    [{ ...draft, colour: 'blue' }, 'colour'],
    [{ engine: 'llamacpp', runtime: 'process' }, 'name'],
  ])('a body the schema refuses is a 400 at its field: %j', async (body, param) => {
    const res = await adminApp().app.inject({ method: 'POST', url: '/admin/api/dry-run', headers: auth, payload: body })
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toMatchObject({ code: 'invalid_request', param })
  })

  it('needs the admin token', async () => {
    const res = await adminApp().app.inject({ method: 'POST', url: '/admin/api/dry-run', payload: draft })
    expect(res.statusCode).toBe(401)
  })
})
