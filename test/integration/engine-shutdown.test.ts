import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest'
import type { ModelDefinition } from '../../gateway/contract/index.js'
import { modelDefinition } from '../../gateway/contract/model.test-support.js'
import { createEngineManager, type EngineManager } from '../../gateway/engines/manager.js'
import type { EngineProcessRecord, PidRepo } from '../../gateway/store/types.js'
import { processesMatching, startCortex, waitFor } from '../support/cortex-process.js'
import { adminToken } from '../support/keys.js'

// Shutdown returns only once every engine process Cortex started is gone, even one that ignores SIGTERM, and however
// Cortex exits. The engine here poses as llama-server (engines.llamaServer names it): a real process that answers
// /health, ignores SIGTERM and, with --stubborn-worker, starts a worker in its process group that holds its output
// pipes and ignores SIGTERM too, as an engine's workers may.
const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-engine-shutdown-'))
const engine = path.join(dir, 'stubborn-engine.cjs')
const source = path.join(dir, 'tiny.gguf')
writeFileSync(
  engine,
  `#!${process.execPath}
const { spawn } = require('node:child_process')
const http = require('node:http')
const args = process.argv.slice(2)
process.on('SIGTERM', () => console.log('ignoring SIGTERM'))
if (args.includes('--stubborn-worker')) {
  const worker = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: 'inherit' })
  console.log('worker ' + worker.pid)
}
http
  .createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}'))
  .listen(Number(args[args.indexOf('--port') + 1]), '127.0.0.1')
`,
)
chmodSync(engine, 0o755)
const logger = pino({ level: 'silent' })
const managers: EngineManager[] = []
const GRACE_MS = 500

afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()))
})

afterAll(() => {
  for (const pid of processesMatching(engine)) process.kill(pid, 'SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

/** Running, as opposed to gone or a zombie waiting for its parent. */
function running(pid: number): boolean {
  try {
    return /State:\s+[^Z]/.test(readFileSync(`/proc/${pid}/status`, 'utf8'))
  } catch {
    return false
  }
}

const def = (over: Partial<ModelDefinition> = {}): ModelDefinition =>
  modelDefinition({ id: 'stubborn-id', name: 'stubborn', engine: 'llamacpp', runtime: 'process', source: engine, ...over })

async function started(over: Partial<ModelDefinition> = {}) {
  const rows = new Map<number, EngineProcessRecord>()
  const pids: PidRepo = { add: (r) => rows.set(r.pid, r), remove: (pid) => rows.delete(pid), list: () => [...rows.values()] }
  const m = createEngineManager({
    models: [def(over)],
    pids,
    logger,
    llamaServer: engine,
    stopOnExit: true,
    pollMs: 20,
    stopGraceMs: GRACE_MS,
  })
  managers.push(m)
  await m.start('stubborn')
  const pid = m.statuses()[0]!.replicas[0]!.pid!
  expect(running(pid)).toBe(true)
  return { m, pid, rows }
}

describe('engine processes at shutdown', () => {
  it('close() resolves only after an engine that ignores SIGTERM is gone, killed after the grace', async () => {
    const { m, pid, rows } = await started()
    const t0 = Date.now()
    await m.close()
    expect(Date.now() - t0).toBeGreaterThanOrEqual(GRACE_MS - 50)
    expect(existsSync(`/proc/${pid}`)).toBe(false)
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }))
    expect(rows.size).toBe(0)
  })

  it('kills the workers in the engine’s process group, and a worker holding the output pipes cannot hold close()', async () => {
    const { m, pid } = await started({ args: ['--stubborn-worker'] })
    const line = await waitFor('the worker to start', () => m.logs('stubborn').find((l) => l.startsWith('worker ')))
    const worker = Number(line.split(' ')[1])
    expect(running(worker)).toBe(true)
    await m.close()
    expect(existsSync(`/proc/${pid}`)).toBe(false)
    // The worker's parent was the engine, so init collects it: gone within moments, not after another grace.
    await waitFor('the worker to be gone', () => (running(worker) ? undefined : true), 1000)
  })

  it('close() during an update waits for the engine the update is stopping', async () => {
    const { m, pid } = await started()
    const updating = m.update([def({ args: ['--changed'] })])
    await m.close()
    expect(existsSync(`/proc/${pid}`)).toBe(false)
    await updating
  })

  it('a second SIGTERM makes `cortex serve` exit at once, and its engines die with it', async () => {
    copyFileSync(inject('tinyModel'), source)
    const config = path.join(dir, 'cortex.yaml')
    writeFileSync(
      config,
      `engines:\n  llamaServer: ${JSON.stringify(engine)}\n` +
        'models:\n  - name: stubborn\n    engine: llamacpp\n    runtime: process\n    source: ./tiny.gguf\n',
    )
    const dataDir = path.join(dir, 'data')
    const cortex = await startCortex(['serve', '--config', config, '--data-dir', dataDir, '--port', '0'])
    const admin = { authorization: `Bearer ${adminToken(dataDir)}` }
    const models = (await (await fetch(`${cortex.url}/admin/api/models`, { headers: admin })).json()) as {
      data: Array<{ id: string }>
    }
    const res = await fetch(`${cortex.url}/admin/api/models/${models.data[0]!.id}/start?wait=true`, {
      method: 'POST',
      headers: admin,
    })
    expect(res.status, await res.text()).toBe(200)
    const [pid] = processesMatching(engine)
    expect(pid).toBeDefined()

    cortex.child.kill('SIGTERM')
    // The engine has been asked to stop (and ignores it) within its 5 s grace: the second signal lands meanwhile.
    await waitFor('the shutdown to begin', () => (cortex.stdout.some((l) => l.includes('shutting down')) ? true : undefined))
    await new Promise((r) => setTimeout(r, 300))
    expect(running(pid!)).toBe(true)
    expect(await cortex.stop('SIGTERM')).toBe(130)
    await waitFor('the engine to be gone', () => (running(pid!) ? undefined : true), 1000)
  })
})
