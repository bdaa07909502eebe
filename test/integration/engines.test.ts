import { spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import type { CortexError, EngineState, ModelDefinition } from '../../gateway/contract/index.js'
import { createEngineManager, type EngineManager } from '../../gateway/engines/manager.js'
import type { EngineProcessRecord, PidRepo } from '../../gateway/store/types.js'
import { modelDefinition } from '../../gateway/contract/model.test-support.js'
import { rejection } from '../support/rejection.js'

const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-engines-'))
const tiny = path.join(dir, 'tiny.gguf')
const notGguf = path.join(dir, 'notes.gguf')
const logger = pino({ level: 'silent' })
const managers: EngineManager[] = []
const children: ChildProcess[] = []

beforeAll(() => {
  copyFileSync(inject('tinyModel'), tiny)
  writeFileSync(notGguf, 'hello, this is not a model\n')
})

afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()))
})

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

const memoryPids = (): PidRepo & { rows: Map<number, EngineProcessRecord> } => {
  const rows = new Map<number, EngineProcessRecord>()
  return { rows, add: (r) => rows.set(r.pid, r), remove: (pid) => rows.delete(pid), list: () => [...rows.values()] }
}

const def = (over: Partial<ModelDefinition> = {}): ModelDefinition =>
  modelDefinition({
    id: 'tiny-id',
    name: 'tiny',
    aliases: ['tiny-alias'],
    engine: 'llamacpp',
    runtime: 'process',
    source: tiny,
    // One slot and a small context keep each engine light on a two-core machine.
    args: ['-c', '256', '-np', '1', '-t', '1'],
    queue: { size: 8, timeoutMs: 30_000 },
    startTimeoutMs: 60_000,
    gpus: 'none',
    ...over,
  })

function setup(over: Partial<ModelDefinition> = {}, llamaServer: string = inject('llamaServer')) {
  const pids = memoryPids()
  const m = createEngineManager({
    models: [def(over)],
    pids,
    logger,
    llamaServer,
    stopOnExit: true,
    pollMs: 20,
    stopGraceMs: 3000,
  })
  managers.push(m)
  return { m, pids }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('engines against the real llama-server', () => {
  it('cold-starts through loading to running, serves a completion, and stop ends the process', async () => {
    const { m, pids } = setup()
    const seen: EngineState[] = []
    m.subscribe((e) => seen.push(e.state))
    const lease = await m.acquire('tiny-alias', new AbortController().signal)
    // llama-server answers 503 "Loading model" between binding its port and finishing the load; for the tiny model
    // that window is ~15 ms (measured), so a 20 ms poll may or may not land in it.
    expect([
      ['starting', 'running'],
      ['starting', 'loading', 'running'],
    ]).toContainEqual(seen)

    const res = await lease.target.dispatcher.request({
      path: `${lease.target.apiRoot}/completions`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', prompt: 'hi', max_tokens: 4 }),
    })
    expect(res.statusCode).toBe(200)
    expect(((await res.body.json()) as { model: string }).model).toBe('tiny')
    lease.release()

    const status = m.statuses()[0]!
    const pid = status.replicas[0]!.pid!
    expect(status).toMatchObject({ state: 'running', diagnosis: null })
    await expect.poll(() => m.statuses()[0]!.contextLength).toBeGreaterThan(0)
    expect([...pids.rows.keys()]).toEqual([pid])
    expect(m.logs('tiny').some((l) => l.includes('model loaded'))).toBe(true)

    await m.stop('tiny')
    expect(alive(pid)).toBe(false)
    expect(pids.rows.size).toBe(0)
    expect(m.statuses()[0]!.state).toBe('stopped')
  })

  it('starts both replicas of a cold model and alternates requests between them', async () => {
    const { m } = setup({ replicas: 2 })
    ;(await m.acquire('tiny', new AbortController().signal)).release()
    await expect.poll(() => m.statuses()[0]!.replicas.map((r) => r.state), { timeout: 60_000 }).toEqual(['running', 'running'])
    const replicas: number[] = []
    for (let i = 0; i < 4; i++) {
      const lease = await m.acquire('tiny', new AbortController().signal)
      replicas.push(lease.target.replica)
      lease.release()
    }
    expect(replicas).toEqual([replicas[0], 1 - replicas[0]!, replicas[0], 1 - replicas[0]!])
  })

  it('close leaves no engine process behind', async () => {
    const { m, pids } = setup({ replicas: 2 })
    ;(await m.acquire('tiny', new AbortController().signal)).release()
    await expect.poll(() => pids.rows.size).toBe(2)
    const started = [...pids.rows.keys()]
    await m.close()
    expect(started.filter(alive)).toEqual([])
    expect(pids.rows.size).toBe(0)
  })
})

describe('failed starts are diagnosed', () => {
  it.each([
    [
      'a missing model file',
      { source: path.join(os.tmpdir(), 'no-such-dir', 'missing.gguf') },
      'model_file_missing',
      /does not exist: check `source`/,
    ],
    ['an unknown flag', { args: ['--no-such-flag'] }, 'unknown_flag', /does not know the flag "--no-such-flag".*`args`/],
    ['a file that is not a GGUF', { source: notGguf }, 'not_gguf', /is not a GGUF file/],
  ])('%s', async (_name, over, cause, message) => {
    const { m, pids } = setup(over)
    const err = await rejection<CortexError>(m.acquire('tiny', new AbortController().signal))
    expect(err.code).toBe('model_start_failed')
    expect(err.message).toMatch(message)
    const status = m.statuses()[0]!
    expect(status).toMatchObject({ state: 'failed', consecutiveFailures: 1 })
    expect(status.diagnosis?.cause).toBe(cause)
    expect(pids.rows.size).toBe(0)
  })

  it('a vocabulary-only GGUF (llama.cpp test file) cannot serve', async () => {
    const vocab = path.join(inject('llamaSrc'), 'models', 'ggml-vocab-llama-spm.gguf')
    const { m } = setup({ source: vocab })
    const err = await rejection<CortexError>(m.acquire('tiny', new AbortController().signal))
    expect(err.message).toMatch(/tensor "token_embd\.weight" is missing/)
    expect(m.statuses()[0]!.diagnosis?.logTail.length).toBeGreaterThan(0)
  })

  it('no llama-server binary', async () => {
    const { m } = setup({}, path.join(dir, 'no-llama-server'))
    const err = await rejection<CortexError>(m.acquire('tiny', new AbortController().signal))
    expect(err.message).toMatch(/no-llama-server does not exist or is not executable: fix `engines\.llamaServer`/)
  })
})

describe('remote endpoints', () => {
  it('a remote whose server is down answers model_start_failed within seconds, not after the cold-start wait', async () => {
    const probe = net.createServer()
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r))
    const { port } = probe.address() as net.AddressInfo
    await new Promise((r) => probe.close(r))
    const baseUrl = `http://127.0.0.1:${port}/v1`
    const { m } = setup({ engine: 'openai', runtime: 'remote', source: undefined, args: [], baseUrls: [baseUrl] })
    const t0 = Date.now()
    const err = await rejection<CortexError>(m.acquire('tiny', new AbortController().signal))
    const waited = Date.now() - t0
    expect(err.code).toBe('model_start_failed')
    expect(err.message).toContain(`could not reach ${baseUrl}/models: ECONNREFUSED — is the server running?`)
    expect(waited).toBeGreaterThanOrEqual(5000)
  })
})

describe('reapLeftovers', () => {
  it('ends a recorded llama-server whose command line matches, and spares a PID running something else', async () => {
    const bin = inject('llamaServer')
    const args = ['-m', tiny, '--host', '127.0.0.1', '--port', '0', '-c', '256', '-np', '1', '-t', '1']
    const leftover = spawn(bin, args, { stdio: 'ignore' })
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' })
    children.push(leftover, stranger)
    const pids = memoryPids()
    pids.add({ pid: leftover.pid!, modelId: 'tiny-id', replica: 0, command: [bin, ...args], startedAt: Date.now() })
    // A recycled PID: the record says llama-server, the process is `sleep`.
    pids.add({ pid: stranger.pid!, modelId: 'tiny-id', replica: 1, command: [bin, ...args], startedAt: Date.now() })
    const m = createEngineManager({ models: [], pids, logger, llamaServer: bin, stopOnExit: true, stopGraceMs: 3000 })
    managers.push(m)

    await m.reapLeftovers()
    // Ended: by the signal itself, or by llama-server's own SIGTERM handler (exit code) once it has installed one.
    await expect.poll(() => leftover.exitCode !== null || leftover.signalCode !== null).toBe(true)
    expect(alive(stranger.pid!)).toBe(true)
    expect(pids.list()).toEqual([])
    stranger.kill('SIGKILL')
  })
})
