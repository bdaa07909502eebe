import Database from 'better-sqlite3'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Pool } from 'undici'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { runCortex, startCortex, waitFor, type CortexProcess } from '../support/cortex-process.js'

// Every dialect the gateway forwards, against a real llama-server: what reaches the client, and what is metered.
const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-dialects-'))
let cortex: CortexProcess
let key: string
let pool: Pool

beforeAll(async () => {
  copyFileSync(inject('tinyModel'), path.join(dir, 'tiny.gguf'))
  writeFileSync(
    path.join(dir, 'cortex.yaml'),
    `engines:\n  llamaServer: ${JSON.stringify(inject('llamaServer'))}\nmodels:\n` +
      '  - name: tiny\n    engine: llamacpp\n    runtime: process\n    source: ./tiny.gguf\n    args: ["-c", "4096", "-np", "2"]\n',
  )
  const data = path.join(dir, 'data')
  cortex = await startCortex(['serve', '--config', path.join(dir, 'cortex.yaml'), '--data-dir', data, '--port', '0'])
  const created = await runCortex(['keys', 'create', '--name', 'dialects', '--data-dir', data])
  expect(created.code, created.stderr).toBe(0)
  key = created.stdout.trim()
  // One connection: every request below reuses the socket the one before it used, as an SDK's keep-alive agent does.
  pool = new Pool(cortex.url, { connections: 1, pipelining: 1 })
})

afterAll(async () => {
  await pool?.close()
  await cortex?.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function post(route: string, body: Record<string, unknown>): Promise<{ status: number; text: string; id: string }> {
  const res = await pool.request({
    path: route,
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'tiny', ...body }),
  })
  return { status: res.statusCode, text: await res.body.text(), id: String(res.headers['x-request-id']) }
}

/** The usage row of one request, once it is there. */
async function row(requestId: string) {
  const db = new Database(path.join(dir, 'data', 'cortex.db'), { readonly: true })
  try {
    return await waitFor(
      `the usage row of ${requestId}`,
      async () =>
        db.prepare('SELECT status, prompt_tokens, completion_tokens, ttft_ms FROM usage WHERE request_id = ?').get(requestId) as
          { status: number; prompt_tokens: number | null; completion_tokens: number | null; ttft_ms: number | null } | undefined,
      10_000,
    )
  } finally {
    db.close()
  }
}

const messages = [{ role: 'user', content: 'Hello' }]

describe('dialects through cortex serve', () => {
  it('drops no plain request after a streamed one on the same keep-alive connection (llama-server half-closes)', async () => {
    const failures: string[] = []
    for (let i = 0; i < 150; i++) {
      const streamed = await post('/v1/chat/completions', { messages, max_tokens: 2, stream: true })
      const plain = await post('/v1/chat/completions', { messages, max_tokens: 2 })
      for (const r of [streamed, plain]) if (r.status !== 200) failures.push(`${r.status} ${r.text.slice(0, 200)}`)
    }
    expect(failures).toEqual([])
  })

  it('meters a Responses API stream: tokens from response.completed, and the time to first token', async () => {
    const res = await post('/v1/responses', { input: 'Hello', max_output_tokens: 8, stream: true })
    expect(res.status, res.text).toBe(200)
    expect(res.text).toContain('response.completed')
    const usage = await row(res.id)
    expect(usage.prompt_tokens).toBeGreaterThan(0)
    expect(usage.completion_tokens).toBeGreaterThan(0)
    expect(usage.ttft_ms).not.toBeNull()
  })

  it('meters an Anthropic Messages stream, prompt tokens included', async () => {
    const res = await post('/v1/messages', { messages, max_tokens: 8, stream: true })
    expect(res.status, res.text).toBe(200)
    expect(res.text).toContain('message_start')
    const usage = await row(res.id)
    expect(usage.prompt_tokens).toBeGreaterThan(0)
    expect(usage.completion_tokens).toBeGreaterThan(0)
    expect(usage.ttft_ms).not.toBeNull()
  })

  it("answers Cortex's own errors on /v1/messages in Anthropic's envelope", async () => {
    const res = await post('/v1/messages', { model: 'no-such-model', messages, max_tokens: 8 })
    expect(res.status).toBe(404)
    expect(JSON.parse(res.text)).toMatchObject({ type: 'error', error: { type: 'not_found_error' } })
  })

  it('keeps the usage a completions stream carries unasked, and meters it', async () => {
    const res = await post('/v1/completions', { prompt: 'Hello', max_tokens: 4, stream: true })
    expect(res.status, res.text).toBe(200)
    const frames = res.text.split('\n\n').filter((f) => f.startsWith('data: {'))
    const direct = frames.map((f) => JSON.parse(f.slice(6)) as { usage?: unknown; choices?: unknown[] })
    // llama-server puts usage on the last completions chunk unasked: it reaches the client. The usage-only chunk Cortex
    // asked for (include_usage) does not.
    expect(direct.some((f) => f.usage !== undefined && Array.isArray(f.choices) && f.choices.length > 0)).toBe(true)
    expect(direct.some((f) => Array.isArray(f.choices) && f.choices.length === 0)).toBe(false)
    const usage = await row(res.id)
    expect(usage.completion_tokens).toBeGreaterThan(0)
  })
})
