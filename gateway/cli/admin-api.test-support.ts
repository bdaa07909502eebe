/** Test doubles for the CLI suites: canned ModelViews, a real local HTTP server playing the admin API, captured output. */
import fs from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach } from 'vitest'
import type { DockerStatus, ModelView } from '../contract/admin.js'
import type { CliIO } from './io.js'
import { main } from './main.js'

/** The same model with every replica running and the context the engine reported. */
export function runningView(view: ModelView, contextLength = 4096): ModelView {
  const replicas = Array.from({ length: view.replicas }, (_, index) => ({
    index,
    state: 'running' as const,
    url: `http://127.0.0.1:${41000 + index}`,
    inFlight: 0,
  }))
  return { ...view, status: { ...view.status, state: 'running', replicas, contextLength } }
}

export interface Recorded {
  method: string
  url: string
  authorization: string | undefined
}

type Answer = { status: number; body: unknown }

export interface FakeAdminApiOptions {
  token: string
  models: ModelView[]
  docker?: DockerStatus
  /** What `POST /models/{id}/start` answers; default: 200 with the model running. */
  start?: (view: ModelView) => Answer
}

/** A node:http server on 127.0.0.1 that answers like the gateway's admin API, and records what it was sent. */
export class FakeAdminApi {
  readonly requests: Recorded[] = []
  url = ''
  private readonly server = createServer((req, res) => this.serve(req, res))

  constructor(private readonly options: FakeAdminApiOptions) {}

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
    return this
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  /** Also ends the open event streams, so no test leaves a connection behind. */
  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise((resolve) => this.server.close(resolve))
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const { method = 'GET', url = '/' } = req
    this.requests.push({ method, url, authorization: req.headers.authorization })
    const send = ({ status, body }: Answer) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    if (method === 'GET' && url === '/health') return void send({ status: 200, body: { status: 'ok' } })
    if (!url.startsWith('/admin/api/')) return void send(error(404, 'not_found', `no route for ${method} ${url}`))
    if (req.headers.authorization !== `Bearer ${this.options.token}`)
      return void send(error(401, 'invalid_api_key', 'missing or wrong admin token'))
    const { models, docker = { available: true, message: null } } = this.options
    if (method === 'GET' && url === '/admin/api/models') return void send({ status: 200, body: { data: models } })
    if (method === 'GET' && url === '/admin/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      // A comment first, as SSE servers send to open the stream; the client must skip it. The stream stays open.
      return void res.write(`: hello\n\ndata: ${JSON.stringify({ type: 'snapshot', models, docker })}\n\n`)
    }
    const action = /^\/admin\/api\/models\/([^/?]+)\/(start|stop)(\?wait=true)?$/.exec(url)
    const view = action && method === 'POST' ? models.find((m) => m.id === decodeURIComponent(action[1]!)) : undefined
    if (!action || !view) return void send(error(404, 'model_not_found', `no model with id ${action?.[1] ?? '?'}`))
    if (action[2] === 'stop')
      return void send({ status: 200, body: { ...view, status: { ...view.status, state: 'stopped', replicas: [] } } })
    send(this.options.start ? this.options.start(view) : { status: 200, body: runningView(view) })
  }
}

export function error(status: number, code: string, message: string, extra: Record<string, unknown> = {}): Answer {
  return {
    status,
    body: { error: { message, type: status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code, ...extra } },
  }
}

export interface Captured {
  io: CliIO
  stdout(): string
  stderr(): string
}

/** A CliIO that keeps what the command wrote, with the given environment only. */
export function capture(env: NodeJS.ProcessEnv): Captured {
  let out = ''
  let err = ''
  return {
    io: { stdout: (text) => void (out += text), stderr: (text) => void (err += text), env },
    stdout: () => out,
    stderr: () => err,
  }
}

/**
 * Per test: a data directory holding the admin token as `cortex serve` writes it (with a newline), a fake admin API
 * the test starts when it wants one, and `cortex(argv)` running the CLI against them; all cleaned up after each test.
 */
export function cliHarness(token: string, models: ModelView[]) {
  const h = {
    dataDir: '',
    api: undefined as FakeAdminApi | undefined,
    async startApi(options: Partial<FakeAdminApiOptions> = {}): Promise<FakeAdminApi> {
      h.api = await new FakeAdminApi({ token, models, ...options }).listen()
      return h.api
    },
    /** Runs `cortex <argv>` against the gateway the environment points at (the data dir's token, the fake's port). */
    async cortex(argv: string[], env: NodeJS.ProcessEnv = {}) {
      const out = capture({ CORTEX_DATA_DIR: h.dataDir, CORTEX_PORT: h.api ? String(h.api.port) : undefined, ...env })
      const code = await main(argv, out.io)
      return { code, stdout: out.stdout(), stderr: out.stderr() }
    },
  }
  beforeEach(() => {
    h.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-cli-'))
    fs.writeFileSync(path.join(h.dataDir, 'admin-token'), `${token}\n`)
  })
  afterEach(async () => {
    await h.api?.close()
    h.api = undefined
    fs.rmSync(h.dataDir, { recursive: true, force: true })
  })
  return h
}
