import { randomBytes } from 'node:crypto'
import { copyFileSync, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import type { AdminEvent, ModelView } from '../../gateway/contract/index.js'
import { startCortex, runCortex, waitFor, type CortexProcess } from '../support/cortex-process.js'
import { createKey } from '../support/keys.js'
import { dockerSuite, testDocker } from '../support/docker.js'

const suite = dockerSuite(inject('docker'))
const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-docker-serve-'))
const model = path.join(dir, 'tiny.gguf')
const running: CortexProcess[] = []
/** Model ids whose containers the cleanup removes (Cortex labels each container with its model's id). */
const modelIds = new Set<string>()
const extraImages: string[] = []

/** The shapes the admin API answers with, loosely: each test reads the part its route returns. */
type AdminAnswer = Partial<ModelView> & {
  data?: unknown[]
  images?: string[]
  lines?: string[]
  error?: { code: string; message: string; diagnosis: { cause: string } }
}

interface Served {
  cortex: CortexProcess
  dataDir: string
  configFile: string
  token: string
  admin: (method: string, route: string, body?: unknown) => Promise<{ status: number; body: AdminAnswer }>
  client: OpenAI
}

async function serve(name: string, config: string, dataDir = path.join(dir, `${name}-data`)): Promise<Served> {
  const configFile = path.join(dir, `${name}.yaml`)
  writeFileSync(configFile, config)
  const cortex = await startCortex(['serve', '--config', configFile, '--data-dir', dataDir, '--port', '0'])
  running.push(cortex)
  const token = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim()
  const admin = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${cortex.url}/admin/api${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as AdminAnswer }
  }
  const client = new OpenAI({ baseURL: `${cortex.url}/v1`, apiKey: await createKey(cortex.url, dataDir), maxRetries: 0 })
  return { cortex, dataDir, configFile, token, admin, client }
}

const dockerModel = (extra = '') => `
engines: { stopOnExit: false }
models:
  - name: tiny
    engine: llamacpp
    runtime: docker
    image: ${suite.image}
    source: ./tiny.gguf
    gpus: none
    args: ["-c", "256", "-np", "1", "-t", "1"]
${extra}`

async function modelView(s: Served, name: string): Promise<ModelView> {
  const { body } = await s.admin('GET', '/models')
  const view = (body.data as ModelView[]).find((m) => m.name === name)
  if (!view) throw new Error(`no model ${name}`)
  modelIds.add(view.id)
  return view
}

const { docker } = testDocker()
const containersOf = async (modelId: string) =>
  docker.listContainers({ all: true, filters: { label: [`ai.cortex.model=${modelId}`] } })

async function chat(client: OpenAI, name = 'tiny'): Promise<string | null | undefined> {
  const res = await client.chat.completions.create({ model: name, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 })
  return res.choices[0]?.message.content
}

/** The `data:` payloads of an SSE stream, as they arrive. */
async function* sse(url: string, token: string, signal: AbortSignal): AsyncGenerator<AdminEvent> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal })
  let buffer = ''
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += Buffer.from(chunk).toString('utf8')
    let end: number
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      const data = frame
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trim())
        .join('\n')
      if (data) yield JSON.parse(data) as AdminEvent
    }
  }
}

describe.skipIf(suite.skip !== null)(`cortex serve with Docker models${suite.skip ? ` — skipped: ${suite.skip}` : ''}`, () => {
  beforeAll(() => copyFileSync(inject('tinyModel'), model))

  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.stop('SIGKILL')))
    for (const id of modelIds) for (const c of await containersOf(id)) await docker.getContainer(c.Id).remove({ force: true })
    modelIds.clear()
  })

  afterAll(async () => {
    for (const image of extraImages)
      await docker
        .getImage(image)
        .remove({ force: true })
        .catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  })

  it('a config model: started on the admin API, serves, a killed container is failed with its exit code, then recovers', async () => {
    const s = await serve('config', dockerModel())
    expect(s.cortex.stderr.join('\n')).toContain('admin-token')
    const { id } = await modelView(s, 'tiny')
    expect((await s.admin('GET', '/models')).status).toBe(200)
    expect((await fetch(`${s.cortex.url}/admin/api/models`)).status).toBe(401)

    const events = new AbortController()
    const seen: AdminEvent[] = []
    const watching = (async () => {
      for await (const e of sse(`${s.cortex.url}/admin/api/events`, s.token, events.signal)) seen.push(e)
    })().catch(() => undefined)

    const started = await s.admin('POST', `/models/${id}/start?wait=true`)
    expect(started.status).toBe(200)
    expect(started.body.status?.state).toBe('running')
    expect(typeof (await chat(s.client))).toBe('string')
    const [container] = await containersOf(id)
    expect(container).toMatchObject({ State: 'running', Image: suite.image })
    expect(container!.Labels).toMatchObject({ 'ai.cortex.managed': 'true', 'ai.cortex.model': id, 'ai.cortex.replica': '0' })

    await docker.getContainer(container!.Id).kill()
    const failed = await waitFor('the model to fail', async () => {
      const view = await modelView(s, 'tiny')
      return view.status.state === 'failed' ? view : undefined
    })
    expect(failed.status.diagnosis).toMatchObject({ exitCode: 137 })
    expect(failed.status.diagnosis!.message).toMatch(/137/)
    await waitFor('the dead container to be removed', async () => ((await containersOf(id)).length === 0 ? true : undefined))

    // The restart rule: the next request starts it again (after the first backoff of a second).
    await waitFor('a request to restart it', async () => chat(s.client).catch(() => undefined))
    expect((await modelView(s, 'tiny')).status.state).toBe('running')
    events.abort()
    await watching
    expect(seen[0]).toMatchObject({ type: 'snapshot', docker: { available: true } })
    const states = seen.flatMap((e) => (e.type === 'model_state' && e.id === id ? [e.state] : []))
    expect(states).toEqual(expect.arrayContaining(['starting', 'running', 'failed']))

    const stopped = await s.admin('POST', `/models/${id}/stop`)
    expect(stopped.body.status?.state).toBe('stopped')
    expect(await containersOf(id)).toEqual([])
  })

  it('stopOnExit false: a SIGKILLed Cortex leaves its container, and the next start adopts it instead of starting another', async () => {
    const first = await serve('adopt', dockerModel())
    const { id } = await modelView(first, 'tiny')
    await chat(first.client)
    const [before] = await containersOf(id)
    await first.cortex.stop('SIGKILL')

    const again = await serve('adopt', dockerModel(), first.dataDir)
    await waitFor('the model to be adopted', async () =>
      (await modelView(again, 'tiny')).status.state === 'running' ? true : undefined,
    )
    const after = await containersOf(id)
    expect(after.map((c) => c.Id)).toEqual([before!.Id])
    expect(typeof (await chat(again.client))).toBe('string')

    // A clean shutdown lets go of it too; a changed definition then replaces it at the next start.
    expect(await again.cortex.stop('SIGTERM')).toBe(0)
    expect((await containersOf(id)).map((c) => c.Id)).toEqual([before!.Id])
    const changed = await serve('adopt', dockerModel().replace('"-c", "256"', '"-c", "320"'), first.dataDir)
    await chat(changed.client)
    const replaced = await containersOf(id)
    expect(replaced).toHaveLength(1)
    expect(replaced[0]!.Id).not.toBe(before!.Id)
  })

  it('models made on the admin API: create, start, logs, a missing image and its offline load, delete', async () => {
    const s = await serve('api', 'models: []\n')
    const loaded = `cortex-test/loaded:${randomBytes(4).toString('hex')}`
    const body = {
      name: 'made',
      engine: 'llamacpp',
      runtime: 'docker',
      source: model,
      gpus: 'none',
      image: loaded,
      args: ['-c', '256', '-np', '1'],
    }
    const created = await s.admin('POST', '/models', body)
    expect(created.status).toBe(201)
    const { id } = created.body as ModelView
    modelIds.add(id)

    const missing = await s.admin('POST', `/models/${id}/start?wait=true`)
    expect(missing.status).toBe(503)
    expect(missing.body.error?.code).toBe('model_start_failed')
    expect(missing.body.error?.diagnosis.cause).toBe('image_missing')
    expect(missing.body.error?.message).toContain(loaded)
    expect(missing.body.error?.message).toContain('/admin/api/images/load')

    // What a person does on an air-gapped machine: a `docker save` tar, loaded through Cortex.
    const testImage = docker.getImage(suite.image!)
    const [repo, tag] = loaded.split(':') as [string, string]
    await testImage.tag({ repo, tag })
    extraImages.push(loaded)
    const tar = path.join(dir, 'image.tar')
    await pipeline((await docker.getImage(loaded).get()) as Readable, createWriteStream(tar))
    await docker.getImage(loaded).remove()
    const load = await s.admin('POST', '/images/load', { path: tar })
    expect(load).toEqual({ status: 200, body: { images: [loaded] } })
    const images = (await s.admin('GET', '/images')).body.data as Array<{ tags: string[] }>
    expect(images.flatMap((i) => i.tags)).toContain(loaded)

    expect((await s.admin('POST', `/models/${id}/start?wait=true`)).body.status?.state).toBe('running')
    expect(typeof (await chat(s.client, 'made'))).toBe('string')
    const logs = await s.admin('GET', `/models/${id}/logs`)
    expect((logs.body.lines as string[]).join('\n')).toMatch(/llama_server: listening on http:\/\/127.0.0.1:/)

    expect((await s.admin('DELETE', `/models/${id}`)).status).toBe(204)
    expect(await containersOf(id)).toEqual([])
    expect((await s.admin('GET', `/models/${id}`)).status).toBe(404)
  })

  it('the CLI lists, starts and stops models and reports status through the admin API', async () => {
    const s = await serve('cli', dockerModel())
    const cli = (...args: string[]) => runCortex([...args, '--url', s.cortex.url, '--data-dir', s.dataDir])
    const { id } = await modelView(s, 'tiny')

    const start = await cli('models', 'start', 'tiny')
    expect(start).toMatchObject({ code: 0 })
    expect(start.stdout).toMatch(/tiny is running \(1\/1 replicas/)
    const list = await cli('models', 'list')
    expect(list.stdout).toMatch(/tiny\s+llamacpp\s+docker\s+running/)
    const status = await cli('status')
    expect(status.code).toBe(0)
    expect(status.stdout).toMatch(/Docker/)
    expect(status.stdout).toMatch(/tiny.*running/)
    expect(await cli('models', 'stop', 'tiny')).toMatchObject({ code: 0 })
    expect(await containersOf(id)).toEqual([])
  })
})
