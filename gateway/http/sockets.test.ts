import { connect, type Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import type { CortexConfig } from '../config/types.js'
import { buildApp } from './app.js'
import { FakeRegistry, MemoryKeys, MemoryUsage, memoryLogger, noKeys, testConfig } from './fakes.test-support.js'
import { rawExchange, rawRequest as request, rawSend } from './raw-socket.test-support.js'

/** Issue 10, "No socket held forever": deadlines on receiving a request, a cap per client, refusals that hang up. */

let app: FastifyInstance | undefined
const opened: Socket[] = []
afterEach(async () => {
  for (const s of opened.splice(0)) s.destroy()
  await app?.close()
  app = undefined
})

const KEY = 'sk-cortex-sockets-test-0123456789abc'

async function start(server: Partial<CortexConfig['server']>): Promise<number> {
  const keys = new MemoryKeys()
  keys.add(KEY, { name: 'k' })
  app = buildApp({
    config: { ...testConfig(server), auth: { required: true, allowLoopbackWithoutKey: false } },
    registry: new FakeRegistry([]),
    usage: new MemoryUsage(),
    logger: memoryLogger().logger,
    ...noKeys(keys),
  })
  // An answer that streams well past requestTimeout: the deadline covers receiving the request, not answering it.
  app.get('/test/slow-answer', async (_req, reply) => {
    reply.raw.writeHead(200, { 'content-type': 'text/plain' })
    for (let i = 0; i < 5; i++) {
      reply.raw.write(`${i}\n`)
      await new Promise((r) => setTimeout(r, 500))
    }
    reply.raw.end('done\n')
    return reply
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  return (app.server.address() as { port: number }).port
}

/** Writes `text` a byte every `ms` until the socket closes. */
function trickle(socket: Socket, text: string, ms: number): void {
  let i = 0
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length) return clearInterval(timer)
    socket.write(text[i++]!)
  }, ms)
  socket.once('close', () => clearInterval(timer))
}

const fast = { headersTimeoutMs: 1000, requestTimeoutMs: 2000 }

describe('request deadlines', () => {
  it.each([
    [
      'headers sent a byte at a time',
      (s: Socket) => trickle(s, request('GET /v1/models HTTP/1.1', ['x-pad: ' + 'p'.repeat(200)]), 100),
    ],
    ['headers that never end', (s: Socket) => s.write('GET /v1/models HTTP/1.1\r\nhost: 127.0.0.1\r\n')],
    [
      'a body sent a byte at a time',
      (s: Socket) => {
        s.write(request('POST /v1/chat/completions HTTP/1.1', [`authorization: Bearer ${KEY}`, 'content-length: 400']))
        trickle(s, '{' + ' '.repeat(398) + '}', 100)
      },
    ],
    [
      'a body that never comes',
      (s: Socket) =>
        s.write(request('POST /v1/chat/completions HTTP/1.1', [`authorization: Bearer ${KEY}`, 'content-length: 10'])),
    ],
  ])('%s: 408 request_timeout, then the socket is closed', async (_name, write) => {
    const port = await start(fast)
    const answer = await rawExchange(port, write)
    expect(answer.status).toBe(408)
    expect(answer.headers).toContain('connection: close')
    expect(answer.json().error).toMatchObject({ code: 'request_timeout', type: 'invalid_request_error' })
  })

  it('an answer that streams longer than requestTimeout is not cut', async () => {
    const port = await start(fast)
    const answer = await rawSend(port, request('GET /test/slow-answer HTTP/1.1', ['connection: close']))
    expect(answer.status).toBe(200)
    expect(answer.body).toMatch(/4\r?\n.*done/s)
  })

  it('0 means never: a slow request still gets its answer', async () => {
    const port = await start({ headersTimeoutMs: 0, requestTimeoutMs: 0 })
    const bytes = request('GET /health HTTP/1.1', ['connection: close'])
    const answer = await rawExchange(port, (s) => {
      s.write(bytes.slice(0, 10))
      setTimeout(() => s.write(bytes.slice(10)), 2500)
    })
    expect(answer.status).toBe(200)
  })
})

describe('refusals before the body was read', () => {
  it.each([
    ['no key', []],
    ['a wrong key', ['authorization: Bearer sk-cortex-wrong-0123456789abcdefgh']],
    ['an unknown route', [`authorization: Bearer ${KEY}`]],
  ])('%s: the answer closes the connection instead of reading a 60 MB body', async (name, headers) => {
    const port = await start({})
    const path = name === 'an unknown route' ? '/nope' : '/v1/chat/completions'
    let sent = 0
    const answer = await rawExchange(port, (s) => {
      s.write(
        request(`POST ${path} HTTP/1.1`, [...headers, `content-length: ${60 * 1024 * 1024}`, 'content-type: application/json']),
      )
      // Keep sending as a client uploading a big body would, until the gateway hangs up.
      const chunk = Buffer.alloc(64 * 1024, 0x20)
      const timer = setInterval(() => {
        if (s.destroyed || !s.writable) return clearInterval(timer)
        s.write(chunk)
        sent += chunk.length
      }, 5)
      s.once('close', () => clearInterval(timer))
      s.on('error', () => clearInterval(timer))
    })
    expect([401, 404]).toContain(answer.status)
    expect(answer.headers).toContain('connection: close')
    expect(sent).toBeLessThan(60 * 1024 * 1024)
  })
})

describe('server.maxConnectionsPerClient', () => {
  const open = (port: number) =>
    new Promise<Socket>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(socket))
      socket.once('error', reject)
      opened.push(socket)
    })

  it.each([1, 3])('with a cap of %i, the next connection from the address gets 503 too_many_connections', async (cap) => {
    const port = await start({ maxConnectionsPerClient: cap })
    for (let i = 0; i < cap; i++) await open(port)
    const answer = await rawSend(port, request('GET /health HTTP/1.1'))
    expect(answer.status).toBe(503)
    expect(answer.headers).toContain('retry-after: 1')
    expect(answer.json().error).toMatchObject({ code: 'too_many_connections', message: expect.stringContaining(`${cap} open`) })
  })

  it('a closed connection frees its place', async () => {
    const port = await start({ maxConnectionsPerClient: 2 })
    const first = await open(port)
    await open(port)
    const closed = new Promise((r) => first.once('close', r))
    first.destroy()
    await closed
    // The server sees the close a moment after the client: ask until it has.
    let status = 0
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await rawSend(port, request('GET /health HTTP/1.1', ['connection: close']))).status
      if (status !== 200) await new Promise((r) => setTimeout(r, 20))
    }
    expect(status).toBe(200)
  })
})
