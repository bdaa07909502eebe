import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createCore, loadConfig, type Core } from '../../gateway/index.js'
import { waitFor } from '../support/cortex-process.js'

/** Issue 14's schedules on a real llama-server engine, the core driven by an injected clock. */

const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-schedule-'))
const clock = { t: Date.parse('2026-03-02T01:30:00Z') }
let core: Core

beforeAll(async () => {
  writeFileSync(
    path.join(dir, 'cortex.yaml'),
    `engines: { llamaServer: ${JSON.stringify(inject('llamaServer'))} }
auth: { required: false }
models:
  - name: night
    engine: llamacpp
    runtime: process
    source: ${JSON.stringify(inject('tinyModel'))}
    args: ["-c", "256"]
    schedule: [{ from: "02:00", to: "06:00", timeZone: UTC }]
    preload: true
    drainTimeout: 10s
`,
  )
  const config = loadConfig({ flags: { config: path.join(dir, 'cortex.yaml'), dataDir: path.join(dir, 'data') }, env: {} })
  core = await createCore(config, { logger: pino({ level: 'silent' }), now: () => clock.t, env: {}, announce: () => {} })
})

afterAll(async () => {
  await core?.close()
  rmSync(dir, { recursive: true, force: true })
})

const state = () => core.engines.statuses().find((s) => s.name === 'night')!.state
const ask = () =>
  core.http.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    payload: { model: 'night', max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] },
  })

describe('a scheduled model on a real engine', () => {
  it('is refused before its window without waking the engine, preloaded at its opening, and drained at its end', async () => {
    const early = await ask()
    expect(early.statusCode).toBe(503)
    expect(early.json().error.code).toBe('model_unavailable')
    expect(early.json().error.message).toBe('model "night" is available 02:00–06:00 UTC only; it opens at 2026-03-02 02:00 UTC')
    expect(early.headers['retry-after']).toBe('1800')
    expect(state()).toBe('stopped')

    clock.t = Date.parse('2026-03-02T02:00:00Z')
    await core.scheduler.tick()
    await waitFor('the preloaded engine to run', () => (state() === 'running' ? true : undefined), 60_000)
    expect((await ask()).statusCode).toBe(200)

    clock.t = Date.parse('2026-03-02T06:00:00Z')
    await core.scheduler.tick()
    expect(state()).toBe('stopped')
    expect((await ask()).json().error.code).toBe('model_unavailable')
  })
})
