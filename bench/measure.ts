/** The bench's measurements; each compares one target reached directly and through Cortex. */
import type { Pool } from 'undici'
import {
  chatRequest,
  checkCompletion,
  closedLoop,
  note,
  timedPost,
  timedStream,
  type ChatRequest,
  type StreamResult,
  type Tally,
} from './load.js'
import { cpuTicks } from './procs.js'
import { gaps, mean, median, pairedDifferences, shuffled, summarize } from './stats.js'

const CHAT = '/v1/chat/completions'
const SIDES = ['direct', 'through'] as const
type Side = (typeof SIDES)[number]

/** One upstream, reachable directly and through Cortex (same model name on both). */
export interface Target {
  model: string
  direct: Pool
  through: Pool
  /** The mock echoes the nonce in the answer's id; llama-server does not. */
  echoes: boolean
}

/** Concurrency 1: each round sends one request per side in random order; the figure is the paired difference. */
export async function addedLatency(t: Target, bytes: number, rounds: number, extra: Record<string, unknown>, tally: Tally) {
  const ms: Record<Side, number[]> = { direct: [], through: [] }
  const warmup = Math.max(10, Math.round(rounds / 10))
  for (let round = 0; round < warmup + rounds; round++) {
    for (const side of shuffled(SIDES)) {
      const req = chatRequest(t.model, bytes, extra)
      const answer = await timedPost(t[side], CHAT, req.body)
      checkCompletion(tally, answer, t.echoes ? req.nonce : undefined)
      if (round >= warmup) ms[side].push(answer.ms)
    }
  }
  const added = summarize(pairedDifferences(ms.direct, ms.through))
  return { bytes, direct: summarize(ms.direct), through: summarize(ms.through), added }
}
export type Latency = Awaited<ReturnType<typeof addedLatency>>

/** Concurrency 32 closed loop, 0.3 KB, a fixed duration per side, sides in random order each round. */
export async function throughput(t: Target, rounds: number, durationMs: number, tally: Tally) {
  const concurrency = 32
  const make = () => chatRequest(t.model, 300)
  for (const side of SIDES) await closedLoop(t[side], CHAT, { concurrency, durationMs: 500, make, tally })
  const totals = { direct: { completed: 0, seconds: 0 }, through: { completed: 0, seconds: 0 } }
  const perRound: Record<Side, number[]> = { direct: [], through: [] }
  for (let round = 0; round < rounds; round++) {
    for (const side of shuffled(SIDES)) {
      const { completed, seconds } = await closedLoop(t[side], CHAT, { concurrency, durationMs, make, tally })
      totals[side].completed += completed
      totals[side].seconds += seconds
      perRound[side].push(completed / seconds)
    }
  }
  const direct = totals.direct.completed / totals.direct.seconds
  const through = totals.through.completed / totals.through.seconds
  return { concurrency, rounds, durationMs, direct, through, ratio: through / direct, perRound }
}
export type Throughput = Awaited<ReturnType<typeof throughput>>

/** A mock stream request; `include_usage` so Cortex passes the usage chunk and frame counts compare. */
function streamRequest(t: Target, frames: number, gapMs: number): ChatRequest {
  return chatRequest(t.model, 300, {
    stream: true,
    stream_options: { include_usage: true },
    mock_frames: frames,
    mock_gap_ms: gapMs,
  })
}

/** Frames out must equal frames in: every content frame, the usage chunk and `[DONE]`. */
function checkFrames(tally: Tally, s: StreamResult, frames: number, where: string): void {
  if (s.contentFrames === frames && s.usageFrames === 1 && s.done) return
  note(tally, 'corrupt', `${where}: ${s.contentFrames}/${frames} content frames, ${s.usageFrames} usage, [DONE] ${s.done}`)
}

/** Paced streams, one per side per round in random order (plus one warm-up round). */
export async function streaming(t: Target, rounds: number, frames: number, gapMs: number, tally: Tally) {
  const runs: Record<Side, StreamResult[]> = { direct: [], through: [] }
  for (let round = 0; round <= rounds; round++) {
    for (const side of shuffled(SIDES)) {
      const s = await timedStream(t[side], CHAT, streamRequest(t, frames, gapMs), tally)
      checkFrames(tally, s, frames, `paced stream ${side}`)
      if (round > 0) runs[side].push(s)
    }
  }
  const per = (side: Side) => {
    const rs = runs[side]
    return {
      ttftMs: summarize(rs.map((s) => s.ttftMs)),
      meanGapMs: mean(rs.flatMap((s) => gaps(s.arrivals))),
      /** Median over rounds of (frames − 1) / (last arrival − first arrival). */
      framesPerSecond: median(rs.map((s) => ((s.arrivals.length - 1) * 1000) / (s.arrivals.at(-1)! - s.arrivals[0]!))),
      contentFrames: rs.map((s) => s.contentFrames),
      usageFrames: rs.map((s) => s.usageFrames),
    }
  }
  const direct = per('direct')
  const through = per('through')
  const ttft = (side: Side) => runs[side].map((s) => s.ttftMs)
  const addedTtftMs = summarize(pairedDifferences(ttft('direct'), ttft('through')))
  return { frames, gapMs, rounds, direct, through, addedTtftMs, rateRatio: through.framesPerSecond / direct.framesPerSecond }
}
export type Streaming = Awaited<ReturnType<typeof streaming>>

/**
 * Cortex's CPU time (utime+stime) over a batch of non-stream requests and a batch of zero-gap streams,
 * with the mock's over the same batches for scale (a bare node:http server doing an upstream's work).
 */
export async function gatewayCpu(
  t: Target,
  pids: { gateway: number; upstream: number },
  hz: number,
  batch: { requests: number; streams: number; framesEach: number },
  tally: Tally,
) {
  const measure = async (work: () => Promise<unknown>, per: number) => {
    const before = { gateway: cpuTicks(pids.gateway), upstream: cpuTicks(pids.upstream) }
    const start = performance.now()
    await work()
    const wallS = (performance.now() - start) / 1000
    const ticks = { gateway: cpuTicks(pids.gateway) - before.gateway, upstream: cpuTicks(pids.upstream) - before.upstream }
    return {
      cpuTicks: ticks,
      wallS,
      us: { gateway: ((ticks.gateway / hz) * 1e6) / per, upstream: ((ticks.upstream / hz) * 1e6) / per },
    }
  }
  const make = () => chatRequest(t.model, 300)
  const requests = await measure(
    () => closedLoop(t.through, CHAT, { concurrency: 8, count: batch.requests, make, tally }),
    batch.requests,
  )
  let next = 0
  const streamWorker = async () => {
    while (next++ < batch.streams) {
      const s = await timedStream(t.through, CHAT, streamRequest(t, batch.framesEach, 0), tally)
      checkFrames(tally, s, batch.framesEach, 'zero-gap stream')
    }
  }
  const streams = await measure(() => Promise.all(Array.from({ length: 5 }, streamWorker)), batch.streams * batch.framesEach)
  return {
    /** `us` is µs per request. */
    requests: { count: batch.requests, concurrency: 8, ...requests },
    /** `us` is µs per content frame. */
    streams: { count: batch.streams, framesEach: batch.framesEach, concurrency: 5, ...streams },
  }
}
export type GatewayCpu = Awaited<ReturnType<typeof gatewayCpu>>
