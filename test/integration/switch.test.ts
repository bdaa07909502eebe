import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { AdminEvent, ModelView, SwitchView } from '../../gateway/contract/index.js'
import { AdminClient, findRunningServer } from '../../gateway/index.js'
import { processesMatching, runCortex, startCortex, waitFor, type CortexProcess } from '../support/cortex-process.js'

/** Issue 13's switching rule on a real `cortex serve` with three tiny-model engines on the real llama-server. */

const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-switch-'))
const dataDir = path.join(dir, 'data')
let cortex: CortexProcess
let token: string

/** Each model has a copy of the tiny model of its own, so the test finds each one's engine process by its path. */
const file = (name: string) => path.join(dir, `${name}.gguf`)
const model = (name: string, extra = '') => `
  - name: ${name}
    engine: llamacpp
    runtime: process
    source: ${JSON.stringify(file(name))}
    args: ["-c", "256"]${extra}`

beforeAll(async () => {
  for (const name of ['a', 'b', 'keep']) copyFileSync(inject('tinyModel'), file(name))
  const config = path.join(dir, 'cortex.yaml')
  writeFileSync(
    config,
    `engines:\n  llamaServer: ${JSON.stringify(inject('llamaServer'))}\nmodels:${model('a')}${model('b')}${model('keep', '\n    pinned: true')}\n`,
  )
  cortex = await startCortex(['serve', '--config', config, '--data-dir', dataDir, '--port', '0'])
  token = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim()
})

afterAll(async () => {
  await cortex?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const admin = async <T>(method: string, url: string): Promise<T> => {
  const res = await fetch(`${cortex.url}/admin/api${url}`, { method, headers: { authorization: `Bearer ${token}` } })
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}
const states = async () =>
  Object.fromEntries((await admin<{ data: ModelView[] }>('GET', '/models')).data.map((m) => [m.name, m.status.state]))
const idOf = async (name: string) => (await admin<{ data: ModelView[] }>('GET', '/models')).data.find((m) => m.name === name)!.id
const engines = (name: string) => processesMatching(file(name)).length

describe('switching models on a real cortex serve', () => {
  it('a switch stops the unpinned model sharing the machine, starts the target, and the events say switched', async () => {
    const events: AdminEvent[] = []
    const ac = new AbortController()
    const res = await fetch(`${cortex.url}/admin/api/events`, {
      headers: { authorization: `Bearer ${token}` },
      signal: ac.signal,
    })
    void (async () => {
      const decoder = new TextDecoder()
      let buffered = ''
      for await (const chunk of res.body!) {
        buffered += decoder.decode(chunk as Uint8Array, { stream: true })
        for (let at = buffered.indexOf('\n\n'); at !== -1; at = buffered.indexOf('\n\n')) {
          const data = /^data: (.*)$/m.exec(buffered.slice(0, at))?.[1]
          buffered = buffered.slice(at + 2)
          if (data) events.push(JSON.parse(data) as AdminEvent)
        }
      }
    })().catch(() => undefined)

    await admin('POST', `/models/${await idOf('a')}/start?wait=true`)
    await admin('POST', `/models/${await idOf('keep')}/start?wait=true`)
    const switched = await admin<SwitchView>('POST', `/models/${await idOf('b')}/switch`)
    expect(switched).toMatchObject({ stopped: ['a'], keptPinned: ['keep'], model: { name: 'b' } })
    await waitFor('b running', async () => ((await states()).b === 'running' ? true : undefined), 60_000)
    expect(await states()).toEqual({ a: 'stopped', b: 'running', keep: 'running' })
    // The engine processes agree: a's llama-server is gone, b's and keep's run.
    expect([engines('a'), engines('b'), engines('keep')]).toEqual([0, 1, 1])
    const ofA = events.flatMap((e) => (e.type === 'model_state' && e.name === 'a' ? [`${e.state}:${e.reason}`] : []))
    expect(ofA).toContain('stopped:switched')
    ac.abort()
  })

  it('the CLI and the desktop app find the server on its picked port from the data directory; the record goes with it', async () => {
    const { code, stdout } = await runCortex(['models', 'list', '--data-dir', dataDir, '--json'])
    expect(code).toBe(0)
    expect((JSON.parse(stdout) as Array<{ name: string }>).map((m) => m.name).sort()).toEqual(['a', 'b', 'keep'])
    expect(await findRunningServer(dataDir, {})).toEqual({ url: cortex.url, pid: cortex.child.pid, token })

    // The desktop's tray works over the same client: it follows the events and pauses /v1.
    const client = new AdminClient(cortex.url, token)
    const ac = new AbortController()
    const seen: string[] = []
    const following = client.followEvents((e) => {
      seen.push(e.type)
      if (e.type === 'snapshot') ac.abort()
    }, ac.signal)
    await following
    expect(seen).toEqual(['snapshot'])
    expect(await client.setPaused(true)).toEqual({ paused: true })
    const { key } = await client.createKey({ name: 'tray' })
    const refused = await fetch(`${cortex.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{"model":"b","messages":[]}',
    })
    expect([refused.status, ((await refused.json()) as { error: { code: string } }).error.code]).toEqual([503, 'gateway_paused'])
    expect(await client.setPaused(false)).toEqual({ paused: false })
    expect((await client.signInCode()).code).toMatch(/^[\w-]{20,}$/)
    await client.close()

    await cortex.stop()
    expect(existsSync(path.join(dataDir, 'cortex.listen.json'))).toBe(false)
    expect(await findRunningServer(dataDir, {})).toBeNull()
  })
})
