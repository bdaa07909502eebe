import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort } from './process/os.js'
import { probeEngineHealth, probeModels, readLlamaContextLength } from './health.js'

let server: Server | undefined
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())))

/** A stand-in answering each path with a fixed status and body, recording the Authorization header. */
async function serve(routes: Record<string, [number, string]>) {
  const auth: Array<string | undefined> = []
  server = createServer((req, res) => {
    auth.push(req.headers.authorization)
    const [status, body] = routes[req.url ?? ''] ?? [404, '']
    res.writeHead(status, { 'content-type': 'application/json' }).end(body)
  })
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
  return { root: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, auth }
}

const signal = () => new AbortController().signal
// What llama-server answers on every endpoint until the model is loaded (tools/server/server-http.cpp).
const LOADING = '{"error":{"message":"Loading model","type":"unavailable_error","code":503}}'

describe('probeEngineHealth', () => {
  it.each([
    [200, '{"status":"ok"}', { status: 'ready' }],
    [503, LOADING, { status: 'loading' }],
    [500, '{}', { status: 'down', reason: 'HTTP 500' }],
  ] as const)('HTTP %i → %j', async (status, body, expected) => {
    const { root } = await serve({ '/health': [status, body] })
    expect(await probeEngineHealth(root, signal())).toEqual(expected)
  })

  it('a refused connection (engine not bound yet) is down, not an error', async () => {
    expect(await probeEngineHealth(`http://127.0.0.1:${await freePort()}`, signal())).toEqual({
      status: 'down',
      reason: 'ECONNREFUSED',
    })
  })
})

describe('probeModels', () => {
  it.each([
    [200, { status: 'ready' }],
    [401, { status: 'unauthorized', httpStatus: 401 }],
    [403, { status: 'unauthorized', httpStatus: 403 }],
    [502, { status: 'down', reason: 'HTTP 502' }],
  ] as const)('HTTP %i → %j', async (status, expected) => {
    const { root, auth } = await serve({ '/v1/models': [status, '{"data":[]}'] })
    expect(await probeModels(`${root}/v1/`, 'sk-1', signal())).toEqual(expected)
    expect(auth).toEqual(['Bearer sk-1'])
  })
})

describe('readLlamaContextLength', () => {
  it.each([
    ['n_ctx of the default generation settings', [200, '{"default_generation_settings":{"n_ctx":4096}}'], 4096],
    ['missing field', [200, '{"total_slots":1}'], null],
    ['not ready', [503, LOADING], null],
  ] as const)('%s', async (_name, route, expected) => {
    const { root } = await serve({ '/props': [...route] })
    expect(await readLlamaContextLength(root, signal())).toBe(expected)
  })
})
