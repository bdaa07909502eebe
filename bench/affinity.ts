/**
 * `npx tsx bench/affinity.ts [--turns N]`: the replica-affinity row (issue 14). Time to first token of the later turns
 * of 8 interleaved long multi-turn conversations on a two-replica llama.cpp model (two llama-servers with the tiny
 * model, 4 slots each: fewer than the conversations), in one run:
 *  - affinity: through Cortex (an in-process core), whose replica choice keeps a conversation where its prompt is
 *    cached while that replica has a free slot, else takes the least busy;
 *  - round-robin: the bench itself takes the two servers in turn, request by request.
 * Each mode has conversations of its own (different long system prompts), so neither warms the other's caches; the
 * order of the conversations is shuffled every turn, as interleaved clients arrive. Prints the medians and their
 * ratio (target: affinity ≤ half of round-robin); never fails on timing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { Pool } from 'undici'
import { createCore, loadConfig, type Core } from '../gateway/index.js'
import { findLlamaServer, startLlamaServer, type LlamaServer } from '../test/support/substrate.js'
import { writeTinyLlama } from '../test/support/gguf-writer.js'
import { median, shuffled } from './stats.js'

const { values } = parseArgs({ options: { turns: { type: 'string' } } })
const TURNS = Number(values.turns ?? 4)
const CONVERSATIONS = 8

type Message = { role: 'system' | 'user' | 'assistant'; content: string }

/** A long system prompt of its own per conversation and mode (about 1,200 tokens: a slot holds 2,048, so ~50 turns fit). */
const systemPrompt = (mode: string, i: number) =>
  `${mode} conversation ${i}: ` + Array.from({ length: 400 }, (_, k) => `w${(k * 7 + i * 13) % 97} `).join('')

/** Streams one turn and returns its time to the first content frame (ms) and the answer's text. */
async function turn(pool: Pool, model: string, messages: Message[]): Promise<{ ttftMs: number; text: string; promptN: number }> {
  const start = performance.now()
  const res = await pool.request({
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json' },
    // Usage asked for: llama-server puts its timings on the usage chunk, which Cortex passes on only when asked.
    body: JSON.stringify({
      model,
      messages,
      max_tokens: 8,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    }),
  })
  if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${await res.body.text()}`)
  let ttftMs = Number.NaN
  let text = ''
  let promptN = 0
  let buffered = ''
  for await (const chunk of res.body) {
    buffered += (chunk as Buffer).toString()
    let end: number
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const frame = buffered.slice(0, end)
      buffered = buffered.slice(end + 2)
      if (!frame.startsWith('data: {')) continue
      const event = JSON.parse(frame.slice(6)) as {
        choices?: Array<{ delta?: { content?: string } }>
        timings?: { prompt_n?: number }
      }
      // llama-server's last chunk says how many prompt tokens it had to process: the rest came from its KV cache.
      if (typeof event.timings?.prompt_n === 'number') promptN = event.timings.prompt_n
      const content = event.choices?.[0]?.delta?.content
      if (content) {
        if (Number.isNaN(ttftMs)) ttftMs = performance.now() - start
        text += content
      }
    }
  }
  return { ttftMs, text, promptN }
}

/** TTFTs of first turns (nothing cached anywhere) and of later turns. */
async function run(
  mode: string,
  pick: () => { pool: Pool; model: string },
): Promise<{ first: number[]; later: number[]; laterPromptTokens: number }> {
  const histories: Message[][] = Array.from({ length: CONVERSATIONS }, (_, i) => [
    { role: 'system', content: systemPrompt(mode, i) },
  ])
  const first: number[] = []
  const later: number[] = []
  let laterPromptTokens = 0
  for (let t = 0; t < TURNS; t++) {
    for (const i of shuffled([...histories.keys()])) {
      const history = histories[i]!
      history.push({ role: 'user', content: `question ${t} of conversation ${i}` })
      const { pool, model } = pick()
      const answer = await turn(pool, model, history)
      history.push({ role: 'assistant', content: answer.text })
      if (!Number.isNaN(answer.ttftMs)) (t === 0 ? first : later).push(answer.ttftMs)
      if (t > 0) laterPromptTokens += answer.promptN
    }
  }
  return { first, later, laterPromptTokens }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-affinity-'))
const servers: LlamaServer[] = []
let core: Core | undefined
try {
  const bin = await findLlamaServer()
  const model = path.join(dir, 'tiny.gguf')
  await writeTinyLlama(model, { contextLength: 8192 })
  for (let i = 0; i < 2; i++) servers.push(await startLlamaServer(bin, model, ['-c', '8192', '-np', '4', '-t', '1']))
  const file = path.join(dir, 'cortex.yaml')
  writeFileSync(
    file,
    `auth: { required: false }\nmodels:\n  - name: pair\n    engine: llamacpp\n    runtime: remote\n    baseUrl: [${servers
      .map((s) => `"${s.url}/v1"`)
      .join(', ')}]\n`,
  )
  const config = loadConfig({ flags: { config: file, dataDir: path.join(dir, 'data'), port: 0 }, env: {} })
  core = await createCore(config, { logger: pino({ level: 'silent' }), env: {}, announce: () => {} })
  await core.http.listen({ port: 0, host: '127.0.0.1' })
  const address = core.http.server.address()
  const cortex = new Pool(`http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`)
  const direct = servers.map((s) => new Pool(s.url))
  // Both engines and Cortex's path warmed first, so the mode measured first pays no start-up cost.
  for (const pool of [...direct, cortex, cortex])
    for (let k = 0; k < 3; k++) await turn(pool, 'pair', [{ role: 'user', content: `warm ${k}` }])
  let next = 0
  const affinity = await run('affinity', () => ({ pool: cortex, model: 'pair' }))
  const roundRobin = await run('round-robin', () => ({ pool: direct[next++ % direct.length]!, model: 'pair' }))
  const [a, r] = [median(affinity.later), median(roundRobin.later)]
  process.stdout.write(
    `affinity row: TTFT p50 of later turns, ${CONVERSATIONS} interleaved conversations × ${TURNS} turns, 2 replicas × 4 slots: ` +
      `affinity (Cortex) ${a.toFixed(1)} ms over ${affinity.later.length}, round-robin ${r.toFixed(1)} ms over ` +
      `${roundRobin.later.length} — ${(a / r).toFixed(3)}× (target ≤ 0.5×); first turns (nothing cached): ` +
      `${median(affinity.first).toFixed(1)} ms and ${median(roundRobin.first).toFixed(1)} ms; prompt tokens the engines ` +
      `processed for later turns (not from their KV cache): ${affinity.laterPromptTokens} and ${roundRobin.laterPromptTokens}\n`,
  )
  await Promise.all([cortex, ...direct].map((p) => p.close()))
} finally {
  await core?.close()
  await Promise.all(servers.map((s) => s.stop()))
  rmSync(dir, { recursive: true, force: true })
}
