import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { UsageReport } from '../../gateway/contract/index.js'
import { runCortex, startCortex, type CortexProcess } from '../support/cortex-process.js'
import { adminToken, createKey } from '../support/keys.js'

/** Issue 14's routes on real llama-server engines: two variants of the tiny model with different contexts. */

const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-routes-'))
const dataDir = path.join(dir, 'data')
let cortex: CortexProcess
let plain: OpenAI
let automation: OpenAI

beforeAll(async () => {
  const tiny = JSON.stringify(inject('tinyModel'))
  const config = path.join(dir, 'cortex.yaml')
  writeFileSync(
    config,
    `engines: { llamaServer: ${JSON.stringify(inject('llamaServer'))} }
models:
  - { name: tiny-long, engine: llamacpp, runtime: process, source: ${tiny}, args: ["-c", "2048", "-np", "1"] }
  - { name: tiny-short, engine: llamacpp, runtime: process, source: ${tiny}, args: ["-c", "256", "-np", "1"] }
routes:
  - name: tiny
    targets:
      - { model: tiny-long, minPromptTokens: 200 }
      - { model: tiny-short, clients: { tags: [automation] } }
    fallback: tiny-long
`,
  )
  cortex = await startCortex(['serve', '--config', config, '--data-dir', dataDir, '--port', '0'])
  plain = new OpenAI({ baseURL: `${cortex.url}/v1`, apiKey: await createKey(cortex.url, dataDir), maxRetries: 0 })
  // Tags come from the CLI too, on the data directory itself.
  const made = await runCortex(['keys', 'create', '--name', 'n8n', '--tags', 'automation,batch', '--data-dir', dataDir])
  expect(made.code).toBe(0)
  automation = new OpenAI({ baseURL: `${cortex.url}/v1`, apiKey: made.stdout.trim(), maxRetries: 0 })
})

afterAll(async () => {
  await cortex?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const say = (client: OpenAI, content: string) =>
  client.chat.completions.create({ model: 'tiny', max_tokens: 4, messages: [{ role: 'user', content }] })

describe('routes on a real cortex serve', () => {
  it('routes by prompt length and client, answers under the route’s name, and records route and target', async () => {
    const long = await say(automation, 'word '.repeat(200))
    const short = await say(automation, 'hello')
    const other = await say(plain, 'hello')
    expect([long.model, short.model, other.model]).toEqual(['tiny', 'tiny', 'tiny'])
    const res = await fetch(`${cortex.url}/admin/api/usage?groupBy=model`, {
      headers: { authorization: `Bearer ${adminToken(dataDir)}` },
    })
    const report = (await res.json()) as UsageReport
    const byModel = Object.fromEntries(report.groups.map((g) => [g.key, g.requests]))
    // The long prompt and the untagged key's short one go to the long-context variant; the tagged short one to the other.
    expect(byModel).toEqual({ 'tiny-long': 2, 'tiny-short': 1 })
  })

  it('a request no target can hold is 400 context_length_exceeded, and no engine is asked', async () => {
    const err = await say(plain, 'x'.repeat(10_000)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('context_length_exceeded')
    expect((err as Error).message).toMatch(/largest context is 2048 tokens/)
  })

  it('lists the route in /v1/models with its targets and largest context', async () => {
    const models = await plain.models.list()
    const route = models.data.find((m) => m.id === 'tiny') as unknown as { route: { targets: string[] }; context_length: number }
    expect(route).toMatchObject({ route: { targets: ['tiny-long', 'tiny-short'] }, context_length: 2048 })
  })
})
