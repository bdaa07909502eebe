import Database from 'better-sqlite3'
import { spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { processesMatching, runCortex, startCortex, waitFor } from '../support/cortex-process.js'
import { createKey } from '../support/keys.js'
import { startLlamaServer } from '../support/substrate.js'

const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-lifecycle-'))
const model = path.join(dir, 'tiny.gguf')
const started: ChildProcess[] = []

beforeAll(() => copyFileSync(inject('tinyModel'), model))

afterAll(async () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  for (const pid of processesMatching(model)) process.kill(pid, 'SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

function writeConfig(name: string, text: string): string {
  const file = path.join(dir, name)
  writeFileSync(file, text)
  return file
}

/** Writes `<name>.yaml`, starts `cortex serve` on it with a data directory of its own, and makes a client with a key. */
async function serve(name: string, config: string) {
  const dataDir = path.join(dir, `${name}-data`)
  const args = ['serve', '--config', writeConfig(`${name}.yaml`, config), '--data-dir', dataDir, '--port', '0']
  const cortex = await startCortex(args)
  started.push(cortex.child)
  const apiKey = await createKey(cortex.url, dataDir)
  return { cortex, args, dataDir, client: new OpenAI({ baseURL: `${cortex.url}/v1`, apiKey, maxRetries: 0 }) }
}

const tinyModel = (llamaServer: string) => `
engines:
  llamaServer: ${JSON.stringify(llamaServer)}
models:
  - name: tiny
    engine: llamacpp
    runtime: process
    source: ./tiny.gguf
    args: ["-c", "1024"]
`

describe('cortex serve start-up and shutdown', () => {
  it('refuses an invalid config file, naming file, line and what was expected', async () => {
    const file = writeConfig(
      'bad.yaml',
      `models:
  - name: a
    engine: llamacpp
    runtime: process
    source: ./tiny.gguf
    ttl: 5 minutes
  - name: b
    engine: openai
    runtime: process
`,
    )
    const { code, stderr } = await runCortex(['serve', '--config', file, '--data-dir', path.join(dir, 'bad-data'), '--port', '0'])
    expect(code).toBe(2)
    expect(stderr).toMatch(/bad\.yaml:6\b.*ttl.*duration/)
    expect(stderr).toMatch(/bad\.yaml:\d+.*openai.*process/)
  })

  it('refuses to listen beyond loopback without keys, unless told --allow-remote', async () => {
    const file = writeConfig('keyless.yaml', 'auth: { required: false }\n')
    const { code, stderr } = await runCortex([
      'serve',
      '--config',
      file,
      '--data-dir',
      path.join(dir, 'remote-data'),
      '--host',
      '0.0.0.0',
      '--port',
      '0',
    ])
    expect(code).toBe(1)
    expect(stderr).toMatch(/auth\.required is false.*--allow-remote/s)
  })

  it('listens beyond loopback when keys are required, and even loopback callers need one', async () => {
    const cortex = await startCortex(['serve', '--data-dir', path.join(dir, 'keyed-data'), '--host', '0.0.0.0', '--port', '0'])
    started.push(cortex.child)
    await waitFor('the hint about keys', () => (cortex.stderr.some((l) => l.startsWith('No API keys yet')) ? true : undefined))
    const port = new URL(cortex.url).port
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200)
    const res = await fetch(`http://127.0.0.1:${port}/v1/models`)
    expect(res.status).toBe(401)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key')
    expect(await cortex.stop()).toBe(0)
  })

  it('routes a remote model to an existing OpenAI-compatible server', async () => {
    const upstream = await startLlamaServer(inject('llamaServer'), model, ['-c', '1024', '--alias', 'upstream-name'])
    try {
      const { cortex, client } = await serve(
        'remote',
        `models:\n  - { name: team, engine: openai, runtime: remote, baseUrl: "${upstream.url}/v1", upstreamModel: upstream-name }\n`,
      )
      const res = await client.chat.completions.create({
        model: 'team',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 8,
      })
      expect(res.model).toBe('team')
      expect(res.usage?.completion_tokens).toBeGreaterThan(0)
      expect(await cortex.stop()).toBe(0)
    } finally {
      // Awaited: the next tests count the processes that use this model file.
      await upstream.stop()
    }
  })

  it('reaps the engines of a Cortex that was killed, at the next start', async () => {
    const { cortex: first, client, args } = await serve('reap', tinyModel(inject('llamaServer')))
    await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 })
    const [orphan] = processesMatching(model)
    expect(orphan).toBeDefined()

    await first.stop('SIGKILL')
    expect(processesMatching(model)).toEqual([orphan]) // nobody stopped it

    const second = await startCortex(args) // also takes over the dead process's data-directory lock
    started.push(second.child)
    expect(processesMatching(model)).toEqual([])
    expect(await second.stop()).toBe(0)
  })

  it('lets an in-flight stream finish on Ctrl-C, then stops its engines', async () => {
    const { cortex, client } = await serve('graceful', tinyModel(inject('llamaServer')))
    const stream = await client.completions.create({
      model: 'tiny',
      prompt: 'a',
      max_tokens: 400,
      stream: true,
      stream_options: { include_usage: true },
    })
    const exited = new Promise<number | null>((resolve) => cortex.child.once('exit', resolve))
    let chunks = 0
    let finish: string | null | undefined
    let usage
    for await (const chunk of stream) {
      // Ctrl-C in a terminal signals the whole process group, while the answer is being generated.
      if (chunks++ === 0) process.kill(-cortex.child.pid!, 'SIGINT')
      finish = chunk.choices[0]?.finish_reason ?? finish
      usage = chunk.usage ?? usage
    }
    expect(finish).toBe('length')
    expect(usage?.completion_tokens).toBe(400)
    expect(await exited).toBe(0)
    // The stream's keep-alive connection, idle once it finished, must not hold the shutdown until its timeout.
    expect(cortex.stdout.join('\n')).not.toContain('outlasted the shutdown timeout')
    expect(processesMatching(model)).toEqual([])
  })

  it('cuts a stream that outlasts shutdownTimeout, records it, and still stops its engines', async () => {
    const { cortex, client, dataDir } = await serve(
      'cut',
      // One slot with the whole context: the 60k-token answer then takes a second or more, far past the 200 ms
      // shutdown timeout (llama-server splits -c among its default slots, and a slot's share ran out in under a
      // second; with 1 s, a fast machine finished the whole answer first).
      `server: { shutdownTimeout: 200ms }\n${tinyModel(inject('llamaServer')).replace('"-c", "1024"', '"-c", "65536", "-np", "1"')}`,
    )
    const stream = await client.completions.create({
      model: 'tiny',
      prompt: 'a',
      max_tokens: 60_000,
      ignore_eos: true,
      stream: true,
    } as never)
    const exited = new Promise<number | null>((resolve) => cortex.child.once('exit', resolve))
    let chunks = 0
    const read = (async () => {
      for await (const _ of stream as unknown as AsyncIterable<unknown>) if (chunks++ === 0) cortex.child.kill('SIGTERM')
    })()
    // The client sees the cut as an error or as an early end, depending on where the socket closes.
    await Promise.allSettled([read])
    expect(chunks).toBeGreaterThan(0)
    expect(chunks).toBeLessThan(60_000)
    expect(await exited).toBe(0)
    expect(cortex.stdout.join('\n')).toContain('outlasted the shutdown timeout')
    expect(processesMatching(model)).toEqual([])
    const db = new Database(path.join(dataDir, 'cortex.db'), { readonly: true })
    const statuses = db.prepare("SELECT status FROM usage WHERE model = 'tiny'").all() as Array<{ status: number }>
    db.close()
    expect(statuses.map((r) => r.status)).toContain(499)
  })

  it('prints the config JSON Schema for editors', async () => {
    const { code, stdout } = await runCortex(['schema'])
    expect(code).toBe(0)
    const schema = JSON.parse(stdout) as { title: string; properties: Record<string, unknown> }
    expect(schema.title).toContain('Cortex')
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['server', 'engines', 'models']))
  })

  it('prints its version from the built bin', async () => {
    const bin = spawn(process.execPath, ['bin/cortex.js', '--version'], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    bin.stdout.on('data', (d: Buffer) => (out += d.toString()))
    const code = await new Promise((resolve) => bin.once('close', resolve))
    expect(code).toBe(0)
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })
})
