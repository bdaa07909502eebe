import Database from 'better-sqlite3'
import { copyFileSync, readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { parseFamilies } from '../../gateway/metrics/engines.js'
import { rejection } from '../support/rejection.js'
import { enginePorts, processesMatching, runCortex, startCortex, waitFor, type CortexProcess } from '../support/cortex-process.js'

// One Cortex process serving several models of the tiny test GGUF, driven through the official OpenAI SDK.
const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-serve-'))
const model = path.join(dir, 'tiny.gguf') // a copy unique to this file, so its engines are recognisable in /proc
let cortex: CortexProcess
let client: OpenAI

const config = (llamaServer: string) => `
engines:
  llamaServer: ${JSON.stringify(llamaServer)}
models:
  - name: tiny
    aliases: [tiny-alias]
    engine: llamacpp
    runtime: process
    source: ./tiny.gguf
    args: ["-c", "2048", "-np", "2"]
  - name: pair
    engine: llamacpp
    runtime: process
    source: ./tiny.gguf
    args: ["-c", "65536", "-np", "1"]
    replicas: 2
    maxConcurrent: 1
    queue: { size: 1, timeout: 60s }
  - name: embed
    engine: llamacpp
    runtime: process
    source: ./tiny.gguf
    args: ["--embeddings", "--pooling", "mean"]
  - name: missing
    engine: llamacpp
    runtime: process
    source: ./no-such-model.gguf
  - name: badflag
    engine: llamacpp
    runtime: process
    source: ./tiny.gguf
    args: ["--no-such-flag"]
`

type ApiError = InstanceType<typeof OpenAI.APIError>
beforeAll(async () => {
  copyFileSync(inject('tinyModel'), model)
  writeFileSync(path.join(dir, 'cortex.yaml'), config(inject('llamaServer')))
  cortex = await startCortex([
    'serve',
    '--config',
    path.join(dir, 'cortex.yaml'),
    '--data-dir',
    path.join(dir, 'data'),
    '--port',
    '0',
  ])
  // The key comes from the CLI, working on the data directory while the server runs, as an operator would do it.
  const created = await runCortex(['keys', 'create', '--name', 'sdk', '--data-dir', path.join(dir, 'data')])
  expect(created.code, created.stderr).toBe(0)
  client = new OpenAI({ baseURL: `${cortex.url}/v1`, apiKey: created.stdout.trim(), maxRetries: 0 })
})

afterAll(async () => {
  await cortex?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const chat = { messages: [{ role: 'user' as const, content: 'Hello' }], max_tokens: 12 }
const long = { model: 'pair', prompt: 'a', max_tokens: 60_000, ignore_eos: true, stream: true as const }

describe('cortex serve with a real llama-server', () => {
  it('lists every model and alias, all stopped before the first request', async () => {
    const list = await client.models.list()
    const byId = Object.fromEntries(list.data.map((m) => [m.id, m as unknown as { state: string }]))
    expect(Object.keys(byId).sort()).toEqual(['badflag', 'embed', 'missing', 'pair', 'tiny', 'tiny-alias'])
    expect(byId.tiny?.state).toBe('stopped')
    expect(processesMatching(model)).toEqual([])
  })

  it('starts a stopped model on the first request and answers a chat with usage', async () => {
    const res = await client.chat.completions.create({ model: 'tiny', ...chat })
    expect(res.model).toBe('tiny')
    expect(res.choices[0]?.message.content?.length).toBeGreaterThan(0)
    expect(res.usage?.completion_tokens).toBeGreaterThan(0)
    const list = await client.models.list()
    const tiny = list.data.find((m) => m.id === 'tiny') as unknown as { state: string; context_length: number }
    expect(tiny.state).toBe('running')
    expect(tiny.context_length).toBeGreaterThan(0)
  })

  it('answers through an alias', async () => {
    // llama-server answers with its alphabetically first --alias, so Cortex gives it only the configured name.
    const res = await client.chat.completions.create({ model: 'tiny-alias', ...chat })
    expect(res.model).toBe('tiny')
    expect(res.choices[0]?.message.content?.length).toBeGreaterThan(0)
  })

  it('streams chat chunk by chunk, and adds the usage chunk only when asked', async () => {
    const plain = await client.chat.completions.create({ model: 'tiny', ...chat, stream: true })
    const plainChunks = []
    for await (const chunk of plain) plainChunks.push(chunk)
    expect(plainChunks.length).toBeGreaterThan(2)
    expect(plainChunks.some((c) => c.usage)).toBe(false)
    expect(plainChunks.every((c) => c.choices.length > 0)).toBe(true)

    const withUsage = await client.chat.completions.create({
      model: 'tiny',
      ...chat,
      stream: true,
      stream_options: { include_usage: true },
    })
    let usage
    for await (const chunk of withUsage) usage = chunk.usage ?? usage
    expect(usage?.completion_tokens).toBeGreaterThan(0)
  })

  it('answers legacy completions, streamed and not', async () => {
    const res = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 8 })
    expect(res.choices[0]?.text.length).toBeGreaterThan(0)
    const stream = await client.completions.create({ model: 'tiny', prompt: 'Once', max_tokens: 8, stream: true })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? ''
    expect(text.length).toBeGreaterThan(0)
  })

  it('answers embeddings from a mean-pooling model', async () => {
    // 40 inputs make a response of ~50 KB, where llama-server's usage (written before the data) is far from the end.
    const input = Array.from({ length: 40 }, (_, i) => `text number ${i}`)
    const res = await client.embeddings.create({ model: 'embed', input })
    expect(res.data).toHaveLength(40)
    expect(res.data[0]?.embedding.length).toBeGreaterThan(8)
    expect(res.data[0]?.embedding).not.toEqual(res.data[1]?.embedding)
    expect(res.usage.prompt_tokens).toBeGreaterThan(0)
  })

  it('says which models exist when asked for an unknown one', async () => {
    const err = await rejection<ApiError>(client.chat.completions.create({ model: 'nope', ...chat }))
    expect(err.status).toBe(404)
    expect(err.code).toBe('model_not_found')
    expect(err.message).toContain('tiny')
  })

  it('explains a model file that does not exist', async () => {
    const err = await rejection<ApiError>(client.chat.completions.create({ model: 'missing', ...chat }))
    expect(err.status).toBe(503)
    expect(err.code).toBe('model_start_failed')
    expect(err.message).toContain('no-such-model.gguf')
  })

  it('explains an engine flag llama-server does not know', async () => {
    const err = await rejection<ApiError>(client.chat.completions.create({ model: 'badflag', ...chat }))
    expect(err.status).toBe(503)
    expect(err.code).toBe('model_start_failed')
    expect(err.message).toContain('--no-such-flag')
    // The error carries the engine's own last log lines, so the person sees what llama-server said.
    const diagnosis = (err.error as { diagnosis?: { cause: string; log_tail: string[] } }).diagnosis
    expect(diagnosis?.cause).toBe('unknown_flag')
    expect(diagnosis?.log_tail.join('\n')).toContain('--no-such-flag')
  })

  it('spreads concurrent requests over both replicas, queues one and refuses past the queue', async () => {
    // Each replica takes one request at a time (maxConcurrent 1) and the queue holds one more.
    // A cold start answers at the first ready replica, so let both finish loading first.
    await client.completions.create({ model: 'pair', prompt: 'a', max_tokens: 1 })
    await waitFor('both pair replicas running, as Cortex sees them', async () => {
      const ready = (await (await fetch(`${cortex.url}/readyz`)).json()) as {
        models: Array<{ name: string; replicas: string[] }>
      }
      const pair = ready.models.find((m) => m.name === 'pair')
      return pair?.replicas.every((state) => state === 'running') ? true : undefined
    })
    const controllers = [0, 1, 2].map(() => new AbortController())
    const streams = controllers.map((c) => client.completions.create(long as never, { signal: c.signal }))
    // The first two get a replica each: both send a first chunk while the third waits in the queue.
    const firsts = await Promise.all(
      streams.slice(0, 2).map(async (s) => ((await s) as unknown as AsyncIterable<unknown>)[Symbol.asyncIterator]().next()),
    )
    expect(firsts.every((r) => !r.done)).toBe(true)

    const overflow = await rejection<ApiError>(client.completions.create({ ...long, stream: false } as never))
    expect(overflow.status).toBe(503)
    expect(overflow.code).toBe('queue_full')
    expect(overflow.headers?.get('retry-after')).toMatch(/^\d+$/)
    for (const c of controllers) c.abort()
    await Promise.allSettled(streams)
  })

  it('stops generation upstream when the client goes away', async () => {
    const ports = pairPorts()
    await waitFor('idle pair replicas', async () => ((await anyProcessing(ports)) ? undefined : true))
    const before = await Promise.all(ports.map(tokensPredicted))
    const controller = new AbortController()
    const stream = (await client.completions.create(long as never, {
      signal: controller.signal,
    })) as unknown as AsyncIterable<unknown>
    await stream[Symbol.asyncIterator]().next()
    controller.abort()
    // With the upstream request aborted, llama-server frees the slot long before 60k tokens.
    await waitFor('the engine to stop generating', async () => ((await anyProcessing(ports)) ? undefined : true))
    const after = await Promise.all(ports.map(tokensPredicted))
    const generated = after.reduce((sum, n, i) => sum + n - before[i]!, 0)
    expect(generated).toBeGreaterThan(0)
    expect(generated).toBeLessThan(60_000)
  })

  it('exposes Prometheus metrics of what it served, behind the admin token', async () => {
    const url = `${cortex.url}/metrics`
    expect((await fetch(url)).status).toBe(401)
    const token = readFileSync(path.join(dir, 'data', 'admin-token'), 'utf8').trim()
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).toMatch(/^cortex_requests_total\{model="tiny",endpoint="\/v1\/chat\/completions",status="200"\} [1-9]/m)
    expect(text).toMatch(/^cortex_tokens_total\{model="tiny",direction="completion"\} [1-9]/m)
    expect(text).toMatch(/^cortex_engine_state\{model="tiny",state="running"\} 1$/m)
    expect(text).toMatch(/^cortex_process_resident_memory_bytes [1-9]/m)
    // The engines' own series, labelled with the model and replica they came from.
    expect(text).toMatch(/^llamacpp:tokens_predicted_total\{model="tiny",replica="0"\} [1-9]/m)
    expect(text).toMatch(/^cortex_engine_scrape_up\{model="tiny",replica="0"\} 1$/m)

    // The whole exposition parses, each family once, and every series has its type and exactly its labels.
    const families = parseFamilies(text)
    expect(new Set(families.map((f) => f.name)).size).toBe(families.length)
    const expected: Array<[string, string, string[]]> = [
      ['cortex_requests_total', 'counter', ['model', 'endpoint', 'status']],
      ['cortex_request_duration_seconds', 'histogram', ['model', 'endpoint']],
      ['cortex_time_to_first_token_seconds', 'histogram', ['model']],
      ['cortex_tokens_total', 'counter', ['model', 'direction']],
      ['cortex_queue_wait_seconds', 'histogram', ['model']],
      ['cortex_gateway_overhead_seconds', 'histogram', []],
      ['cortex_in_flight_requests', 'gauge', ['model']],
      ['cortex_queued_requests', 'gauge', ['model']],
      ['cortex_engine_state', 'gauge', ['model', 'state']],
      ['cortex_engine_restarts_total', 'counter', ['model']],
      ['cortex_engine_scrape_up', 'gauge', ['model', 'replica']],
      ['cortex_process_cpu_seconds_total', 'counter', []],
      ['llamacpp:prompt_tokens_total', 'counter', ['model', 'replica']],
      ['llamacpp:requests_processing', 'gauge', ['model', 'replica']],
    ]
    for (const [name, type, labels] of expected) {
      const family = families.find((f) => f.name === name)
      expect(family?.type, name).toBe(type)
      expect(family!.samples.length, name).toBeGreaterThan(0)
      for (const sample of family!.samples) {
        // Histograms add `le` to their buckets.
        const names = sample.labels.map(([label]) => label).filter((label) => label !== 'le')
        expect(names, sample.name).toEqual(labels)
        expect(Number.isNaN(Number(sample.value)), `${sample.name} ${sample.value}`).toBe(false)
      }
    }
    // Every model's state is exported, the failed ones too.
    const states = families.find((f) => f.name === 'cortex_engine_state')!.samples
    const failed = states.filter(({ labels, value }) => labels.some(([k, v]) => k === 'state' && v === 'failed') && value === '1')
    expect(failed.map(({ labels }) => labels.find(([k]) => k === 'model')![1]).sort()).toEqual(['badflag', 'missing'])
  })

  it('records one usage row per request with the replica and a 499 for aborted streams', async () => {
    expect(await cortex.stop('SIGTERM')).toBe(0)
    // Aborted streams must not leave connections that hold the shutdown until its timeout.
    expect(cortex.stdout.join('\n')).not.toContain('outlasted the shutdown timeout')
    const db = new Database(path.join(dir, 'data', 'cortex.db'), { readonly: true })
    const rows = db.prepare('SELECT model, replica, status, stream, prompt_tokens, completion_tokens FROM usage').all() as Array<{
      model: string
      replica: number | null
      status: number
      prompt_tokens: number | null
      completion_tokens: number | null
    }>
    db.close()
    expect(rows.filter((r) => r.model === 'tiny' && r.status === 200).length).toBeGreaterThanOrEqual(5)
    expect(rows.find((r) => r.model === 'tiny' && r.status === 200)?.completion_tokens).toBeGreaterThan(0)
    // llama-server puts usage before the embeddings; the gateway still records it.
    expect(rows.find((r) => r.model === 'embed' && r.status === 200)).toMatchObject({ prompt_tokens: expect.any(Number) })
    const aborted = rows.filter((r) => r.model === 'pair' && r.status === 499)
    // Both replicas served an aborted stream; a request aborted while still queued has no replica.
    expect(new Set(aborted.filter((r) => r.replica !== null).map((r) => r.replica))).toEqual(new Set([0, 1]))
  })

  it('leaves no llama-server behind after a graceful shutdown', () => {
    expect(processesMatching(model)).toEqual([])
  })
})

/** The pair replicas are the engines started with a 65536-token context. */
const pairPorts = () => enginePorts(model, '65536')

async function anyProcessing(ports: number[]): Promise<boolean> {
  for (const port of ports) {
    const slots = (await (await fetch(`http://127.0.0.1:${port}/slots`)).json()) as Array<{ is_processing: boolean }>
    if (slots.some((s) => s.is_processing)) return true
  }
  return false
}

async function tokensPredicted(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const value = /^llamacpp:tokens_predicted_total (\S+)/m.exec(text)?.[1]
  if (value === undefined) throw new Error(`llama-server on port ${port} has no llamacpp:tokens_predicted_total in /metrics`)
  return Number(value)
}
