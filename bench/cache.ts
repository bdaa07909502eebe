/**
 * The completion cache's row (issue 14): the latency of a hit through Cortex against the engine answering the same
 * request itself, at concurrency 1, sides in random order every round. Bodies are deterministic (temperature 0) and
 * repeat, so after one miss each through Cortex every Cortex answer is a hit; each hit is checked to say so.
 */
import type { Pool } from 'undici'
import { HEADERS, checkCompletion, note, timedPost, type Tally } from './load.js'
import { median, shuffled, summarize, type Summary } from './stats.js'

const CHAT = '/v1/chat/completions'
/** Distinct prompts cycled over: a hit is never only the last answer kept. */
const PROMPTS = 16

export interface CacheRow {
  /** llama-server answering itself (generation included). */
  engine: Summary
  /** Cortex answering from its cache (the same bodies). */
  hit: Summary
  /** median(hit) / median(engine). */
  ratio: number
}

const body = (model: string, i: number) =>
  Buffer.from(
    JSON.stringify({
      model,
      temperature: 0,
      max_tokens: 8,
      ignore_eos: true,
      messages: [{ role: 'user', content: `cache bench prompt ${i}` }],
    }),
  )

/** `direct` reaches the engine, `through` Cortex, whose `models.cached` is the same engine with a cache. */
export async function cacheHitLatency(
  pools: { direct: Pool; through: Pool },
  models: { direct: string; cached: string },
  rounds: number,
  tally: Tally,
): Promise<CacheRow> {
  for (let i = 0; i < PROMPTS; i++) checkCompletion(tally, await timedPost(pools.through, CHAT, body(models.cached, i)))
  const ms = { direct: [] as number[], through: [] as number[] }
  for (let round = 0; round < rounds; round++) {
    const i = round % PROMPTS
    for (const side of shuffled(['direct', 'through'] as const)) {
      const answer = await timedPost(pools[side], CHAT, body(side === 'direct' ? models.direct : models.cached, i))
      checkCompletion(tally, answer)
      ms[side].push(answer.ms)
    }
  }
  // A Cortex answer that was not a hit would make the row meaningless: the answers say which they were.
  const check = await pools.through.request({
    method: 'POST',
    path: CHAT,
    headers: HEADERS,
    body: body(models.cached, 0),
  })
  await check.body.text()
  if (check.headers['x-cortex-cache'] !== 'hit')
    note(tally, 'errors', `cache row: answer said x-cortex-cache ${String(check.headers['x-cortex-cache'])}`)
  const engine = summarize(ms.direct)
  const hit = summarize(ms.through)
  return { engine, hit, ratio: median(ms.through) / median(ms.direct) }
}

export function formatCacheRow(row: CacheRow): string {
  const f = (ms: number) => `${ms.toFixed(3)} ms`
  return (
    `completion cache hit (llama-server, 0.3 KB, max_tokens 8): engine p50 ${f(row.engine.median)}, ` +
    `Cortex hit p50 ${f(row.hit.median)} (p99 ${f(row.hit.p99)}) — ${row.ratio.toFixed(3)}× the engine's own`
  )
}
