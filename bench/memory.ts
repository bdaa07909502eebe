/** Cortex's memory: RSS over 1,000 concurrent paced streams, and an idle `cortex serve` with no models. */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { checkFrames, createPool, streamRequest, timedStream, type Tally } from './load.js'
import * as procs from './procs.js'
import { summarize } from './stats.js'

const MB = 1024

/**
 * `streams` paced streams through Cortex at once, each `frames` frames `gapMs` apart, from a pool allowing that
 * many connections. Cortex's VmRSS is read just before, every 100 ms while they run (the peak) and `settleMs`
 * after the last one ended and the pool closed its connections.
 */
export async function manyStreams(
  cortex: { url: string; pid: number },
  model: string,
  plan: { streams: number; frames: number; gapMs: number; settleMs: number },
  tally: Tally,
) {
  const pool = createPool(cortex.url, plan.streams)
  const before = procs.rssKb(cortex.pid)
  let peak = before
  const sampler = setInterval(() => (peak = Math.max(peak, procs.rssKb(cortex.pid))), 100)
  const start = performance.now()
  const results = await Promise.all(
    Array.from({ length: plan.streams }, () =>
      timedStream(pool, '/v1/chat/completions', streamRequest(model, plan.frames, plan.gapMs), tally),
    ),
  )
  const wallS = (performance.now() - start) / 1000
  clearInterval(sampler)
  peak = Math.max(peak, procs.rssKb(cortex.pid))
  await pool.close()
  await sleep(plan.settleMs)
  const after = procs.rssKb(cortex.pid)
  const complete = results.filter((s) => checkFrames(tally, s, plan.frames, `${plan.streams} concurrent streams`)).length
  const framesReceived = results.reduce((sum, s) => sum + s.contentFrames, 0)
  return {
    ...plan,
    complete,
    framesReceived,
    wallS,
    ttftMs: summarize(results.filter((s) => s.contentFrames > 0).map((s) => s.ttftMs)),
    rssMb: { before: before / MB, peak: peak / MB, after: after / MB },
  }
}
export type ManyStreams = Awaited<ReturnType<typeof manyStreams>>

/**
 * A second `cortex serve` of its own (empty config, own data dir, port 0), pinned like the first: its VmRSS
 * `settleMs` after /readyz answers 200, then it is stopped.
 */
export async function idleServe(bin: string, dir: string, core: number | null, settleMs: number) {
  const config = path.join(dir, 'idle.yaml')
  const dataDir = path.join(dir, 'idle-data')
  writeFileSync(config, 'models: []\n')
  mkdirSync(dataDir, { recursive: true })
  const idle = await procs.startCortex('cortex-idle', dir, { bin, config, dataDir, core })
  await sleep(settleMs)
  const rssMb = procs.rssKb(idle.proc.pid) / MB
  await procs.stop(idle.proc)
  return { settleMs, rssMb }
}
export type IdleServe = Awaited<ReturnType<typeof idleServe>>
