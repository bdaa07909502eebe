import Database from 'better-sqlite3'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { processesMatching, startCortex, type CortexProcess } from '../support/cortex-process.js'
import { adminToken, createKey } from '../support/keys.js'

// A killed `cortex serve` must have committed the usage row of every request it answered (billing and dailyTokens
// are rebuilt from them), so the kill comes the instant the last answer is complete.
const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-usage-kill-'))
const model = path.join(dir, 'tiny.gguf') // a copy unique to this file, so its engine is recognisable in /proc
const dataDir = path.join(dir, 'data')
let cortex: CortexProcess | undefined

afterAll(async () => {
  await cortex?.stop('SIGKILL')
  // A killed Cortex leaves its engine behind (the next start would reap it): this suite ends it itself.
  for (const pid of processesMatching(model)) process.kill(pid, 'SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

const BURST = 200
const CONCURRENCY = 16

/** One request, read to its last byte; returns the request id the gateway answered with. */
async function ask(url: string, key: string, i: number): Promise<string> {
  const stream = i % 2 === 0
  const body =
    i % 3 === 0
      ? { model: 'tiny', prompt: `n${i}`, max_tokens: 4, stream }
      : { model: 'tiny', messages: [{ role: 'user', content: `n${i}` }], max_tokens: 4, stream }
  const res = await fetch(`${url}/v1/${'prompt' in body ? 'completions' : 'chat/completions'}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`request ${i} answered ${res.status}: ${text}`)
  if (stream && !text.includes('data: [DONE]')) throw new Error(`stream ${i} ended without [DONE]: ${text}`)
  return res.headers.get('x-request-id')!
}

describe('usage rows survive a SIGKILL', () => {
  it(`keeps the row of each of ${BURST} answered requests when killed the instant the last answer arrived`, async () => {
    copyFileSync(inject('tinyModel'), model)
    const config = path.join(dir, 'cortex.yaml')
    writeFileSync(
      config,
      `engines:\n  llamaServer: ${JSON.stringify(inject('llamaServer'))}\n` +
        'models:\n  - name: tiny\n    engine: llamacpp\n    runtime: process\n    source: ./tiny.gguf\n' +
        '    args: ["-c", "2048", "-np", "4", "-t", "1"]\n',
    )
    cortex = await startCortex(['serve', '--config', config, '--data-dir', dataDir, '--port', '0'])
    const { url } = cortex
    const key = await createKey(url, dataDir)
    // Started on the admin API, which records no usage: the table then holds the burst's rows only.
    const admin = { authorization: `Bearer ${adminToken(dataDir)}` }
    const models = (await (await fetch(`${url}/admin/api/models`, { headers: admin })).json()) as { data: Array<{ id: string }> }
    const started = await fetch(`${url}/admin/api/models/${models.data[0]!.id}/start?wait=true`, {
      method: 'POST',
      headers: admin,
    })
    expect(started.status, await started.text()).toBeLessThan(300)

    const ids: string[] = []
    let next = 0
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < BURST) ids.push(await ask(url, key, next++))
      }),
    )
    const killed = cortex.stop('SIGKILL')
    expect(await killed).toBeNull()
    expect(cortex.child.signalCode).toBe('SIGKILL')

    // Read-write, as the next `cortex serve` would open it: the WAL left by the kill is recovered on open.
    const db = new Database(path.join(dataDir, 'cortex.db'))
    const recorded = db.prepare('SELECT request_id FROM usage').pluck().all() as string[]
    db.close()
    expect(ids).toHaveLength(BURST)
    expect(recorded).toHaveLength(BURST)
    expect(new Set(recorded)).toEqual(new Set(ids))
  })
})
