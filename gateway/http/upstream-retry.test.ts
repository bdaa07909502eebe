import type { ServerResponse } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { modelDefinition } from '../contract/model.test-support.js'
import { buildApp } from './app.js'
import { FakeRegistry, MemoryUsage, MockUpstream, json, memoryLogger, noKeys, testConfig } from './fakes.test-support.js'
import { rawRequest, rawSend } from './raw-socket.test-support.js'

/**
 * Issue 10, "Nothing dropped between the gateway and the engine": a kept-alive upstream socket the engine closed before
 * answering is retried once on a fresh connection; nothing is retried once a byte of the answer arrived, nor a request
 * that failed on a socket that carried nothing before (the engine got it). The real llama-server race is in
 * test/integration/dialects.test.ts. (Not covered: an engine that dies after part of a status line — undici reports that
 * as the same "other side closed" as a close before any byte, so it would be retried.)
 */

const upstream = new MockUpstream()
let app: FastifyInstance
let port: number

beforeAll(async () => {
  await upstream.start()
  const registry = new FakeRegistry([modelDefinition({ id: 'id-qwen', name: 'qwen' })])
  registry.target = { replica: 0, apiRoot: '/v1', dispatcher: upstream.pool }
  app = buildApp({ config: testConfig(), registry, usage: new MemoryUsage(), logger: memoryLogger().logger, ...noKeys() })
  await app.listen({ host: '127.0.0.1', port: 0 })
  port = (app.server.address() as { port: number }).port
})
afterAll(async () => {
  await app.close()
  await upstream.close()
})
beforeEach(() => {
  upstream.received.length = 0
})

const ok = (res: ServerResponse) => json(res, 200, { id: 'x', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } })

async function chat(): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({ model: 'qwen', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 })
  const headers = ['content-type: application/json', `content-length: ${Buffer.byteLength(body)}`, 'connection: close']
  return rawSend(port, rawRequest('POST /v1/chat/completions HTTP/1.1', headers, body))
}

/** Answers the first request; on the second, does `fault` to its socket once, then answers what comes after. */
function faultOnSecond(fault: (res: ServerResponse) => void) {
  let n = 0
  upstream.handler = (_req, res) => (++n === 2 ? fault(res) : ok(res))
}

describe('upstream sockets the engine closed', () => {
  it.each([
    ['closed with no answer', (res: ServerResponse) => res.socket!.destroy()],
    ['half-closed with no answer (llama-server after a stream)', (res: ServerResponse) => res.socket!.end()],
  ])('a kept-alive socket %s is retried once, on a fresh connection', async (_what, fault) => {
    faultOnSecond(fault)
    expect((await chat()).status).toBe(200)
    const res = await chat()
    expect(res.status, res.body).toBe(200)
    expect(upstream.received).toHaveLength(3)
  })

  it.each([
    ['the headers', (res: ServerResponse) => res.socket!.end('HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n')],
    ['part of the body', (res: ServerResponse) => res.socket!.end('HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n{"id":')],
  ])('is not retried once %s arrived', async (_what, fault) => {
    faultOnSecond(fault)
    expect((await chat()).status).toBe(200)
    const res = await chat()
    expect(res.status).not.toBe(200)
    expect(upstream.received).toHaveLength(2)
  })

  it('a request that fails on a socket that carried nothing before is not retried: the engine may have run it', async () => {
    let n = 0
    upstream.handler = (_req, res) => {
      n++
      // The first answer closes its connection, so the second request goes out on a new one.
      if (n === 1) res.setHeader('connection', 'close')
      if (n === 2) res.socket!.destroy()
      else ok(res)
    }
    expect((await chat()).status).toBe(200)
    const res = await chat()
    expect(res.status).toBe(502)
    expect(JSON.parse(res.body).error.code).toBe('upstream_unreachable')
    expect(upstream.received).toHaveLength(2)
  })
})
