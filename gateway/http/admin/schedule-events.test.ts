import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCore, loadConfig, type Core } from '../../index.js'

/** A window's edge on the events stream of a listening core driven by an injected clock (no engine starts). */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-schedule-events-'))
const token = 'ctx_admin_schedule-events-token-0123456789'
const clock = { t: Date.parse('2026-03-02T01:59:00Z') }
let core: Core
let base: string

beforeAll(async () => {
  fs.writeFileSync(path.join(dir, 'tiny.gguf'), 'never started here')
  fs.writeFileSync(
    path.join(dir, 'cortex.yaml'),
    `models:
  - name: night
    engine: llamacpp
    runtime: process
    source: tiny.gguf
    schedule: [{ from: "02:00", to: "06:00", timeZone: UTC }]
`,
  )
  const config = loadConfig({ flags: { config: path.join(dir, 'cortex.yaml'), dataDir: path.join(dir, 'data') }, env: {} })
  core = await createCore(config, {
    logger: pino({ level: 'silent' }),
    now: () => clock.t,
    env: { CORTEX_ADMIN_TOKEN: token },
    announce: () => {},
  })
  await core.http.listen({ port: 0, host: '127.0.0.1' })
  const address = core.http.server.address()
  base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
})
afterAll(async () => {
  await core?.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

/** Reads the stream until an event of `type` arrives; returns its data. */
async function nextEvent(reader: ReadableStreamDefaultReader<Uint8Array>, type: string): Promise<unknown> {
  const decoder = new TextDecoder()
  let text = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`the stream ended before a ${type} event`)
    text += decoder.decode(value, { stream: true })
    const frame = text.split('\n\n').find((f) => f.startsWith(`event: ${type}\n`))
    if (frame !== undefined) return JSON.parse(frame.slice(frame.indexOf('data: ') + 6))
  }
}

describe('/admin/api/events and schedules', () => {
  it('announces a window opening, with when it shuts', async () => {
    await core.scheduler.tick()
    const controller = new AbortController()
    const res = await fetch(`${base}/admin/api/events`, {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal,
    })
    const reader = res.body!.getReader()
    await nextEvent(reader, 'snapshot')
    clock.t = Date.parse('2026-03-02T02:00:00Z')
    await core.scheduler.tick()
    const shuts = Date.parse('2026-03-02T06:00:00Z')
    expect(await nextEvent(reader, 'schedule')).toEqual({
      type: 'schedule',
      id: core.models.list()[0]!.id,
      name: 'night',
      open: true,
      nextChangeAt: shuts,
    })
    controller.abort()
  })
})
