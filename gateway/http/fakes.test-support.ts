/** Test doubles for the HTTP/proxy suites: a real local upstream, a fake registry, a config. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import pino from 'pino'
import { Pool } from 'undici'
import { hashKey } from '../auth/keys.js'
import { createMemoryLimiter, type Limiter } from '../auth/limits.js'
import type { ApiKeyRecord } from '../contract/keys.js'
import type { CortexConfig } from '../config/types.js'
import type { ModelDefinition, ModelStatus } from '../contract/model.js'
import type { Lease, ModelRegistry, UpstreamTarget } from '../engines/types.js'
import type { UsageRecord, UsageSink } from '../contract/usage.js'
import { keyRecord } from '../auth/keys.test-support.js'
import { modelStatusOf } from '../contract/model.test-support.js'

export interface Received {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: Buffer
  /** Resolves when the gateway's connection for this request closed before the response ended. */
  aborted: Promise<void>
}

type Handler = (req: Received, res: ServerResponse) => void | Promise<void>

/** A node:http server on 127.0.0.1 playing the engine; each test sets `handler`. */
export class MockUpstream {
  readonly received: Received[] = []
  handler: Handler = (_req, res) => void res.end('{}')
  private server: Server = createServer((req, res) => void this.serve(req, res))
  url = ''
  pool!: Pool

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
    this.pool = new Pool(this.url, { connections: 4 })
    return this
  }

  async close(): Promise<void> {
    await this.pool.close()
    this.server.closeAllConnections()
    await new Promise((resolve) => this.server.close(resolve))
  }

  private async serve(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const aborted = new Promise<void>((resolve) => res.on('close', () => !res.writableFinished && resolve()))
    const received = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks), aborted }
    this.received.push(received)
    await this.handler(received, res)
  }
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text)
}

/** A registry over fixed definitions whose leases point at `target`; counts releases per lease. */
export class FakeRegistry implements ModelRegistry {
  readonly leases: Array<{ released: number }> = []
  target: Omit<UpstreamTarget, 'model'> | null = null
  acquireImpl: ((model: string, signal: AbortSignal) => Promise<void>) | null = null

  constructor(readonly models: ModelDefinition[]) {}

  resolve(nameOrAlias: string): ModelDefinition | undefined {
    return this.models.find((m) => m.name === nameOrAlias || m.aliases.includes(nameOrAlias))
  }

  statuses(): ModelStatus[] {
    return this.models.map((m) => modelStatusOf({ ...m, pinned: false }, { state: 'running', contextLength: 4096 }))
  }

  contextLength(): number | null {
    return 4096
  }

  async acquire(model: string, signal: AbortSignal): Promise<Lease> {
    if (this.acquireImpl) await this.acquireImpl(model, signal)
    const counter = { released: 0 }
    this.leases.push(counter)
    return { target: { model, ...this.target! }, waitedMs: 0, release: () => void counter.released++ }
  }
}

export class MemoryUsage implements UsageSink {
  readonly rows: UsageRecord[] = []
  record(row: UsageRecord): void {
    this.rows.push(row)
  }
  recordGrouped(row: UsageRecord): Promise<void> {
    this.rows.push(row)
    return Promise.resolve()
  }
}

/** API keys by hash, for suites that test what keys allow; `add` makes a key with every scope and no limit. */
export class MemoryKeys {
  readonly byHash = new Map<string, ApiKeyRecord>()

  add(secret: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
    const record = keyRecord({
      id: `key_${this.byHash.size + 1}`,
      name: `key-${this.byHash.size + 1}`,
      hash: hashKey(secret),
      prefix: secret.slice(0, 14),
      ...overrides,
    })
    this.byHash.set(record.hash, record)
    return record
  }

  findByHash(hash: string): ApiKeyRecord | undefined {
    return this.byHash.get(hash)
  }
}

/** What buildApp needs for keys and limits, with no key known (testConfig lets keyless callers in). */
export function noKeys(keys = new MemoryKeys()): { keys: MemoryKeys; limiter: Limiter } {
  return { keys, limiter: createMemoryLimiter({ usedToday: new Map() }) }
}

export function testConfig(server: Partial<CortexConfig['server']> = {}, prompts = false): CortexConfig {
  return {
    configPath: null,
    dataDir: '/nonexistent',
    server: {
      host: '127.0.0.1',
      port: 0,
      allowedHosts: [],
      corsOrigins: [],
      bodyLimit: 64 * 1024 * 1024,
      shutdownTimeoutMs: 1000,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      maxConnectionsPerClient: 1024,
      trustProxy: false,
      allowRemote: false,
      ...server,
    },
    auth: { required: false, allowLoopbackWithoutKey: true },
    limits: { redis: null },
    cache: { redis: null },
    metrics: { port: null },
    logging: { prompts, level: 'info', format: 'json' },
    engines: { stopOnExit: true, llamaServer: null },
    models: [],
    routes: [],
  }
}

/** A pino logger whose JSON lines land in `lines`. */
export function memoryLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>)
      cb()
    },
  })
  return { logger: pino({ level: 'info' }, stream), lines }
}

/** Waits until `check` passes (for what happens after a response, such as usage rows), failing after `ms`. */
export async function eventually(check: () => void, ms = 2000): Promise<void> {
  const until = Date.now() + ms
  for (;;) {
    try {
      check()
      return
    } catch (err) {
      if (Date.now() > until) throw err
      await new Promise((r) => setTimeout(r, 10))
    }
  }
}
