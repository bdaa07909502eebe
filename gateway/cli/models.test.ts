import fs from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { cliHarness, error, runningView } from './admin-api.test-support.js'
import { USAGE } from './usage.js'
import { modelView } from '../contract/admin.test-support.js'

const TOKEN = 'admin-secret'
const tiny = runningView(modelView({ id: 'm1', name: 'tiny', aliases: ['t'] }), 4096)
const qwen = modelView({ id: 'm-qwen', name: 'qwen2.5-7b', aliases: ['qwen'], engine: 'vllm', runtime: 'docker', replicas: 2 })
const broken = modelView(
  { id: 'm-broken', name: 'broken' },
  {
    state: 'failed',
    diagnosis: { cause: 'model_file_missing', message: 'no file at /models/broken.gguf', exitCode: 1, logTail: ['boom'] },
  },
)

const h = cliHarness(TOKEN, [tiny, qwen, broken])

describe('cortex models list', () => {
  it('prints a table of every model, sending the admin token from the data directory', async () => {
    const server = await h.startApi()
    const result = await h.cortex(['models', 'list'])
    expect(result).toEqual({
      code: 0,
      stderr: '',
      stdout:
        'NAME        ENGINE    RUNTIME  STATE    REPLICAS  CONTEXT  DIAGNOSIS\n' +
        'tiny        llamacpp  process  running  1/1       4096\n' +
        'qwen2.5-7b  vllm      docker   stopped  0/2       -\n' +
        'broken      llamacpp  process  failed   0/1       -        model_file_missing\n',
    })
    expect(server.requests).toEqual([{ method: 'GET', url: '/admin/api/models', authorization: `Bearer ${TOKEN}` }])
  })

  it('prints the raw ModelViews with --json', async () => {
    await h.startApi()
    const result = await h.cortex(['models', 'list', '--json'])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual([tiny, qwen, broken])
  })

  it('says so when the gateway has no models', async () => {
    await h.startApi({ models: [] })
    expect((await h.cortex(['models', 'list'])).stdout).toMatch(/^no models: /)
  })

  it('connects to loopback when serve listens on every address, and prefers CORTEX_ADMIN_TOKEN to the file', async () => {
    fs.writeFileSync(path.join(h.dataDir, 'admin-token'), 'stale-token\n')
    const server = await h.startApi()
    const result = await h.cortex(['models', 'list'], { CORTEX_HOST: '0.0.0.0', CORTEX_ADMIN_TOKEN: TOKEN })
    expect(result.code).toBe(0)
    expect(server.requests[0]?.authorization).toBe(`Bearer ${TOKEN}`)
  })

  it('uses --url and CORTEX_ADMIN_TOKEN without reading the config', async () => {
    const server = await h.startApi()
    const missing = path.join(h.dataDir, 'missing.yaml')
    const result = await h.cortex(['models', 'list', '--url', `${server.url}/`], {
      CORTEX_PORT: '1',
      CORTEX_CONFIG: missing,
      CORTEX_ADMIN_TOKEN: TOKEN,
    })
    expect(result.code).toBe(0)
    expect(server.requests).toHaveLength(1)
  })
})

describe('cortex models start', () => {
  it('resolves an alias to the model id, waits, and prints replicas and context', async () => {
    const server = await h.startApi()
    const result = await h.cortex(['models', 'start', 'qwen'])
    expect(result).toEqual({
      code: 0,
      stderr: '',
      stdout: 'starting qwen2.5-7b…\nqwen2.5-7b is running (2/2 replicas, context 4096)\n',
    })
    expect(server.requests.map((r) => `${r.method} ${r.url} ${r.authorization}`)).toEqual([
      `GET /admin/api/models Bearer ${TOKEN}`,
      `POST /admin/api/models/m-qwen/start?wait=true Bearer ${TOKEN}`,
    ])
  })

  // http/errors.ts writes the diagnosis in snake case beside error.message.
  it('prints the diagnosis and the last log lines of a failed start and exits 1', async () => {
    const diagnosis = { cause: 'model_file_missing', exit_code: 1, log_tail: ['loading model', 'error: no such file'] }
    const message = 'model "tiny" failed to start: no file at /models/tiny.gguf'
    await h.startApi({ start: () => error(503, 'model_start_failed', message, { diagnosis }) })
    const result = await h.cortex(['models', 'start', 'tiny'])
    expect(result).toEqual({
      code: 1,
      stdout: 'starting tiny…\n',
      stderr: `${message}\ncause: model_file_missing, exit code 1\nlast log lines:\n  loading model\n  error: no such file\n`,
    })
  })

  it('prints an API error without a diagnosis as it came and exits 1', async () => {
    await h.startApi({
      start: () => error(503, 'docker_unavailable', 'Docker is not running: start it with `systemctl start docker`'),
    })
    const result = await h.cortex(['models', 'start', 'qwen2.5-7b'])
    expect(result.code).toBe(1)
    expect(result.stderr).toBe('Docker is not running: start it with `systemctl start docker`\n')
  })

  it('names the available models when the name is unknown, and starts nothing', async () => {
    const server = await h.startApi()
    const result = await h.cortex(['models', 'start', 'llama'])
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'unknown model "llama"; available: tiny (t), qwen2.5-7b (qwen), broken\n',
    })
    expect(server.requests.map((r) => r.method)).toEqual(['GET'])
  })
})

describe('cortex models stop', () => {
  it('stops the model by name', async () => {
    const server = await h.startApi()
    const result = await h.cortex(['models', 'stop', 'tiny'])
    expect(result).toEqual({ code: 0, stderr: '', stdout: 'stopping tiny…\ntiny is stopped\n' })
    expect(server.requests.at(-1)).toEqual({ method: 'POST', url: '/admin/api/models/m1/stop', authorization: `Bearer ${TOKEN}` })
  })
})

describe('cortex models: errors a person can act on (exit 1)', () => {
  it('says Cortex is not running when nothing listens on the port', async () => {
    const server = await h.startApi()
    const port = server.port
    await server.close()
    h.api = undefined
    const result = await h.cortex(['models', 'list'], { CORTEX_PORT: String(port) })
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `Cortex is not running at http://127.0.0.1:${port}: start it with \`cortex serve\` (or pass --url)\n`,
    })
  })

  it('names the token file when there is no admin token, and sends nothing', async () => {
    fs.rmSync(path.join(h.dataDir, 'admin-token'))
    const server = await h.startApi()
    const result = await h.cortex(['models', 'stop', 'tiny'])
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'no admin token: set CORTEX_ADMIN_TOKEN or run on the machine where `cortex serve` wrote ' +
        `${path.join(h.dataDir, 'admin-token')}\n`,
    })
    expect(server.requests).toEqual([])
  })

  it('says the token was refused, and where it came from, on 401', async () => {
    const server = await h.startApi()
    const result = await h.cortex(['models', 'list'], { CORTEX_ADMIN_TOKEN: 'wrong' })
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe(
      `the admin token was refused: the token from CORTEX_ADMIN_TOKEN is not the one the \`cortex serve\` at ${server.url} uses ` +
        '(its CORTEX_ADMIN_TOKEN, or the admin-token file in its data directory)\n',
    )
    expect(server.requests[0]?.authorization).toBe('Bearer wrong')
  })

  it('says when what answers is not a Cortex gateway', async () => {
    const other = createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>'))
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`
    try {
      const result = await h.cortex(['models', 'list', '--url', url])
      expect(result).toEqual({
        code: 1,
        stdout: '',
        stderr: `unexpected answer from ${url}: /admin/api/models answered HTTP 404: <h1>Not Found</h1> — is that a Cortex gateway? (pass --url)\n`,
      })
    } finally {
      other.closeAllConnections()
      await new Promise((resolve) => other.close(resolve))
    }
  })
})

describe('cortex models: usage errors (exit 2)', () => {
  it.each([
    [['models'], 'cortex models: missing subcommand: list, start or stop'],
    [['models', 'restart'], 'cortex models: unknown subcommand "restart" (expected list, start or stop)'],
    [['models', 'start'], 'cortex models start: missing the model name (or alias)'],
    [['models', 'stop', 'a', 'b'], 'cortex models stop: unexpected argument "b"'],
    [['models', 'list', 'tiny'], 'cortex models list: unexpected argument "tiny"'],
    [['models', 'start', 'tiny', '--json'], "cortex models start: Unknown option '--json'"],
    [['models', 'list', '--url', 'ftp://host'], 'cortex models list: --url expects an http:// or https:// URL'],
  ])('cortex %j', async (argv, message) => {
    const result = await h.cortex(argv)
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr.startsWith(message)).toBe(true)
    expect(result.stderr.endsWith(`\n\n${USAGE}`)).toBe(true)
  })

  it('prints the usage with --help and exits 0', async () => {
    expect(await h.cortex(['models', 'start', '--help'])).toEqual({ code: 0, stdout: USAGE, stderr: '' })
  })

  it('reports a config it cannot read as serve does (exit 2)', async () => {
    const result = await h.cortex(['models', 'list'], { CORTEX_CONFIG: path.join(h.dataDir, 'missing.yaml') })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('config file not found')
  })
})
