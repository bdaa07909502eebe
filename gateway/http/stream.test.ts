import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { ServerResponse } from 'node:http'
import { Client } from 'undici'
import type { FastifyInstance } from 'fastify'
import { modelDefinition } from '../contract/model.test-support.js'
import { buildApp } from './app.js'
import { FakeRegistry, MemoryUsage, MockUpstream, eventually, memoryLogger, noKeys, testConfig } from './fakes.test-support.js'

const upstream = new MockUpstream()
let registry: FakeRegistry
let usage: MemoryUsage
let app: FastifyInstance
let client: Client

const chunk = (delta: object, extra = '') =>
  `data: {"id":"c","object":"chat.completion.chunk","model":"qwen","choices":[{"index":0,"delta":${JSON.stringify(delta)}}]${extra}}\n\n`
const frames = [
  chunk({ role: 'assistant', content: null }),
  chunk({ content: 'Hel' }),
  chunk({ content: 'lo' }),
  chunk({}, ',"finish_reason":"stop"'),
]
const usageFrame =
  'data: {"id":"c","object":"chat.completion.chunk","model":"qwen","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}\n\n'
const done = 'data: [DONE]\n\n'

beforeAll(async () => {
  await upstream.start()
})
afterAll(() => upstream.close())

beforeEach(async () => {
  upstream.received.length = 0
  registry = new FakeRegistry([modelDefinition({ name: 'qwen' })])
  registry.target = { replica: 0, apiRoot: '/v1', dispatcher: upstream.pool }
  usage = new MemoryUsage()
  app = buildApp({ config: testConfig(), registry, usage, logger: memoryLogger().logger, ...noKeys() })
  await app.listen({ port: 0, host: '127.0.0.1' })
  // Pipelining lets a request ride a stream's connection behind it (the shutdown test needs that).
  client = new Client(`http://127.0.0.1:${app.server.address() && (app.server.address() as { port: number }).port}`, {
    pipelining: 2,
  })
})

afterEach(async () => {
  await client.close()
  await app.close()
})

function sseHead(res: ServerResponse) {
  res.writeHead(200, { 'content-type': 'text/event-stream' })
}

/** Streams a chat request and collects what arrives, in `seen` as it arrives. */
async function streamChat(body: object, opts: { signal?: AbortSignal; seen?: { text: string } } = {}) {
  const seen = opts.seen ?? { text: '' }
  const res = await client.request({
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'qwen', messages: [{ role: 'user', content: 'hi' }], stream: true, ...body }),
    signal: opts.signal,
  })
  const finished = (async () => {
    for await (const c of res.body) seen.text += c.toString()
  })()
  return { res, seen, finished }
}

describe('streaming passthrough', () => {
  it('relays each frame before the engine writes the next, and hides the usage chunk nobody asked for', async () => {
    const seen = { text: '' }
    upstream.handler = async (_req, res) => {
      sseHead(res)
      let sent = ''
      for (const frame of frames) {
        res.write(frame)
        sent += frame
        // The next frame is written only once the client has this one: a buffering proxy would stall here.
        await eventually(() => expect(seen.text).toBe(sent))
      }
      res.end(usageFrame + done)
    }
    const { res, finished } = await streamChat({}, { seen })
    await finished
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('text/event-stream')
    expect(res.headers['x-request-id']).toBeDefined()
    expect(seen.text).toBe(frames.join('') + done)
    expect(upstream.received[0]!.body.toString()).toMatch(/^\{"stream_options":\{"include_usage":true\},"model":"qwen"/)
    await eventually(() => expect(usage.rows).toHaveLength(1))
    const row = usage.rows[0]!
    expect(row).toMatchObject({
      status: 200,
      stream: true,
      promptTokens: 5,
      completionTokens: 2,
      bytesOut: Buffer.byteLength(seen.text),
    })
    expect(row.ttftMs).toBeGreaterThan(0)
    expect(row.ttftMs).toBeLessThanOrEqual(row.totalMs)
    expect(registry.leases).toEqual([{ released: 1 }])
  })

  it('keeps the usage chunk, and the body as sent, when the client asked for usage', async () => {
    upstream.handler = (_req, res) => {
      sseHead(res)
      res.end(frames.join('') + usageFrame + done)
    }
    const body = { stream_options: { include_usage: true } }
    const { seen, finished } = await streamChat(body)
    await finished
    expect(seen.text).toBe(frames.join('') + usageFrame + done)
    expect(JSON.parse(upstream.received[0]!.body.toString())).toMatchObject(body)
    await eventually(() => expect(usage.rows[0]).toMatchObject({ promptTokens: 5, completionTokens: 2 }))
  })

  it('aborts the engine request at once when the client goes away, and records 499', async () => {
    upstream.handler = (_req, res) => {
      sseHead(res)
      res.write(frames[0])
      res.write(frames[1])
    }
    const ac = new AbortController()
    const { seen, finished } = await streamChat({}, { signal: ac.signal })
    await eventually(() => expect(seen.text).toContain('Hel'))
    ac.abort()
    await expect(finished).rejects.toThrow()
    await upstream.received[0]!.aborted
    await eventually(() => expect(usage.rows).toHaveLength(1))
    expect(usage.rows[0]).toMatchObject({ status: 499, stream: true })
    expect(registry.leases).toEqual([{ released: 1 }])
  })

  it('ends with an error frame when the engine dies mid-stream', async () => {
    upstream.handler = async (_req, res) => {
      sseHead(res)
      res.write(frames[0]! + frames[1]! + 'data: {"choices":[{"delta":{"con')
      await new Promise((r) => setTimeout(r, 20))
      res.socket!.destroy()
    }
    const { seen, finished } = await streamChat({})
    await finished
    const [first, second, last, ...rest] = seen.text.split('\n\n')
    expect([first + '\n\n', second + '\n\n']).toEqual([frames[0], frames[1]])
    expect(rest).toEqual([''])
    expect(JSON.parse(last!.slice('data: '.length)).error).toMatchObject({ type: 'server_error', code: 'upstream_unreachable' })
    await eventually(() => expect(usage.rows[0]).toMatchObject({ status: 502 }))
    expect(registry.leases).toEqual([{ released: 1 }])
  })
})

describe('client disconnects before the answer', () => {
  it('aborts a non-stream generation that has not answered yet', async () => {
    upstream.handler = () => undefined
    const ac = new AbortController()
    const pending = client.request({
      method: 'POST',
      path: '/v1/completions',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"qwen","prompt":"x"}',
      signal: ac.signal,
    })
    await eventually(() => expect(upstream.received).toHaveLength(1))
    ac.abort()
    await expect(pending).rejects.toThrow()
    await upstream.received[0]!.aborted
    await eventually(() => expect(usage.rows[0]).toMatchObject({ status: 499, stream: false, replica: 0 }))
    expect(registry.leases).toEqual([{ released: 1 }])
  })

  it('answers a request that arrives while closing with 503 shutting_down, and lets the in-flight stream finish', async () => {
    let finish!: () => void
    const gate = new Promise<void>((resolve) => (finish = resolve))
    upstream.handler = async (_req, res) => {
      sseHead(res)
      res.write(frames[0])
      await gate
      res.end(frames[3]! + done)
    }
    const seen = { text: '' }
    const { finished } = await streamChat({}, { seen })
    await eventually(() => expect(seen.text).toContain('assistant'))
    const closed = app.close()
    await eventually(() => expect(app.server.listening).toBe(false))
    // Pipelined on the same keep-alive connection: the server reads it while the stream is still going.
    const late = client.request({ method: 'GET', path: '/v1/models' })
    await new Promise((r) => setTimeout(r, 50))
    finish()
    await finished
    const res = await late
    expect(res.statusCode).toBe(503)
    expect(res.headers['retry-after']).toBe('5')
    expect(((await res.body.json()) as { error: { code: string } }).error.code).toBe('shutting_down')
    expect(seen.text).toContain('[DONE]')
    await closed
  })

  it('gives up waiting for a lease', async () => {
    let waiting = false
    registry.acquireImpl = (_model, signal) =>
      new Promise((_resolve, reject) => {
        waiting = true
        signal.addEventListener('abort', () => reject(signal.reason))
      })
    const ac = new AbortController()
    const pending = streamChat({}, { signal: ac.signal })
    await eventually(() => expect(waiting).toBe(true))
    ac.abort()
    await expect(pending).rejects.toThrow()
    await eventually(() => expect(usage.rows[0]).toMatchObject({ status: 499, replica: null }))
    expect(registry.leases).toHaveLength(0)
    expect(upstream.received).toHaveLength(0)
  })
})
