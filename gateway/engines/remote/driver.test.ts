import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { CortexError, ModelDefinition } from '../../contract/index.js'
import { modelDefinition } from '../../contract/model.test-support.js'
import { createEngineManager, type EngineManager } from '../manager.js'
import { createRemoteDriver } from './driver.js'

let server: Server | undefined
let manager: EngineManager | undefined
afterEach(async () => {
  await manager?.close()
  await new Promise((r) => (server ? server.close(r) : r(undefined)))
  server = manager = undefined
})

/** A stand-in OpenAI-compatible endpoint that answers /v1/models with `status`, recording the auth header. */
async function endpoint(status: number) {
  const seen: Array<string | undefined> = []
  server = createServer((req, res) => {
    seen.push(req.headers.authorization)
    res.statusCode = req.url === '/v1/models' ? status : 404
    res.end('{"object":"list","data":[]}')
  })
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, seen }
}

const remote = (baseUrl: string, apiKey?: string): ModelDefinition =>
  modelDefinition({
    id: 'r1',
    name: 'team',
    engine: 'openai',
    runtime: 'remote',
    source: undefined,
    queue: { size: 1, timeoutMs: 1000 },
    startTimeoutMs: 2000,
    gpus: 'none',
    baseUrls: [baseUrl],
    apiKey,
    upstreamModel: 'Qwen/Qwen2.5-72B-Instruct',
  })

const open = (def: ModelDefinition, coldStartWaitMs?: number) =>
  (manager = createEngineManager({
    models: [def],
    pids: { add() {}, remove() {}, list: () => [] },
    logger: pino({ level: 'silent' }),
    llamaServer: null,
    stopOnExit: true,
    pollMs: 10,
    coldStartWaitMs,
    drivers: { remote: (d) => createRemoteDriver({ def: d, unreachableMs: 100 }) },
  }))

/** A base URL nothing listens on: a port that was just free. */
async function closedUrl() {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address() as AddressInfo
  await new Promise((r) => s.close(r))
  return `http://127.0.0.1:${port}/v1`
}

describe('remote driver', () => {
  it('is running once GET {baseUrl}/models answers 2xx, with the key sent', async () => {
    const { url, seen } = await endpoint(200)
    const lease = await open(remote(url, 'sk-test')).acquire('team', new AbortController().signal)
    // Requests go under the base URL's own path, which stands for the client's /v1.
    expect(lease.target).toMatchObject({ apiRoot: '/v1', apiKey: 'sk-test', upstreamModel: 'Qwen/Qwen2.5-72B-Instruct' })
    expect(seen[0]).toBe('Bearer sk-test')
    lease.release()
  })

  it('fails with a diagnosis when the remote rejects the API key', async () => {
    const { url } = await endpoint(401)
    const err = (await open(remote(url, 'sk-bad'))
      .acquire('team', new AbortController().signal)
      .catch((e: unknown) => e)) as CortexError
    expect(err.code).toBe('model_start_failed')
    expect(err.message).toMatch(/rejected the API key \(HTTP 401\)/)
    expect(manager!.statuses()[0]!.diagnosis?.cause).toBe('remote_auth_rejected')
  })

  it('fails fast with remote_unreachable when nothing answers, not after the cold-start wait', async () => {
    const url = await closedUrl()
    const err = (await open({ ...remote(url), startTimeoutMs: 300_000 }, 5000)
      .acquire('team', new AbortController().signal)
      .catch((e: unknown) => e)) as CortexError
    expect(err.code).toBe('model_start_failed')
    expect(err.message).toContain(
      `could not reach ${url}/models: ECONNREFUSED — is the server running? check \`baseUrl\` of model "team"`,
    )
    expect(manager!.statuses()[0]).toMatchObject({ state: 'failed', consecutiveFailures: 1 })
  })

  it('gives a remote 3 probes and 5 s by default before calling it unreachable', () => {
    expect(createRemoteDriver({ def: remote('http://x/v1') }).unreachableAfter).toEqual({ probes: 3, ms: 5000 })
  })
})
