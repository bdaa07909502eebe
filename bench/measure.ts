/**
 * The bench's measurements. Each reaches one upstream three ways — directly, through the floor (bench/floor.ts)
 * and through Cortex — with the sides in random order every round, so that what they share (a GC pause, a noisy
 * neighbour) cancels in the per-round differences.
 */
import type { Pool } from 'undici'
import {
  chatRequest,
  checkCompletion,
  checkFrames,
  closedLoop,
  streamRequest,
  timedPost,
  timedStream,
  type StreamResult,
  type Tally,
} from './load.js'
import { cpuTicks } from './procs.js'
import { gaps, mean, median, pairedDifferences, shuffled, summarize } from './stats.js'

const CHAT = '/v1/chat/completions'
export const SIDES = ['direct', 'floor', 'through'] as const
export type Side = (typeof SIDES)[number]
/** The two sides with a gateway in the path. */
export const GATEWAYS = ['floor', 'through'] as const
export type Gateway = (typeof GATEWAYS)[number]

/** One upstream and a keep-alive pool per side (same model name on all three). */
export interface Target {
  model: string
  pools: Record<Side, Pool>
  /** The mock echoes the nonce in the answer's id; llama-server does not. */
  echoes: boolean
}

function series(): Record<Side, number[]> {
  return { direct: [], floor: [], through: [] }
}

/** Each gateway's per-round paired difference over direct. */
function addedOverDirect(values: Record<Side, number[]>) {
  return {
    floor: summarize(pairedDifferences(values.direct, values.floor)),
    through: summarize(pairedDifferences(values.direct, values.through)),
  }
}

/** Concurrency 1: each round sends one request per side in random order; the figures are paired differences. */
export async function addedLatency(t: Target, bytes: number, rounds: number, extra: Record<string, unknown>, tally: Tally) {
  const ms = series()
  const warmup = Math.max(10, Math.round(rounds / 10))
  for (let round = 0; round < warmup + rounds; round++) {
    for (const side of shuffled(SIDES)) {
      const req = chatRequest(t.model, bytes, extra)
      const answer = await timedPost(t.pools[side], CHAT, req.body)
      checkCompletion(tally, answer, t.echoes ? req.nonce : undefined)
      if (round >= warmup) ms[side].push(answer.ms)
    }
  }
  return {
    bytes,
    direct: summarize(ms.direct),
    floor: summarize(ms.floor),
    through: summarize(ms.through),
    added: addedOverDirect(ms),
  }
}
export type Latency = Awaited<ReturnType<typeof addedLatency>>

/** Concurrency 32 closed loop, 0.3 KB, a fixed duration per side, sides in random order each round. */
export async function throughput(t: Target, rounds: number, durationMs: number, tally: Tally) {
  const concurrency = 32
  const make = () => chatRequest(t.model, 300)
  for (const side of SIDES) await closedLoop(t.pools[side], CHAT, { concurrency, durationMs: 500, make, tally })
  const completed = { direct: 0, floor: 0, through: 0 }
  const seconds = { direct: 0, floor: 0, through: 0 }
  const perRound = series()
  for (let round = 0; round < rounds; round++) {
    for (const side of shuffled(SIDES)) {
      const run = await closedLoop(t.pools[side], CHAT, { concurrency, durationMs, make, tally })
      completed[side] += run.completed
      seconds[side] += run.seconds
      perRound[side].push(run.completed / run.seconds)
    }
  }
  const perSecond = (side: Side) => completed[side] / seconds[side]
  const requestsPerSecond = { direct: perSecond('direct'), floor: perSecond('floor'), through: perSecond('through') }
  return { concurrency, rounds, durationMs, requestsPerSecond, perRound }
}
export type Throughput = Awaited<ReturnType<typeof throughput>>

/** Paced streams, one per side per round in random order (plus one warm-up round). */
export async function streaming(t: Target, rounds: number, frames: number, gapMs: number, tally: Tally) {
  const runs: Record<Side, StreamResult[]> = { direct: [], floor: [], through: [] }
  const complete = { direct: 0, floor: 0, through: 0 }
  for (let round = 0; round <= rounds; round++) {
    for (const side of shuffled(SIDES)) {
      const s = await timedStream(t.pools[side], CHAT, streamRequest(t.model, frames, gapMs), tally)
      if (checkFrames(tally, s, frames, `paced stream ${side}`)) complete[side]++
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
      /** Streams with every frame (warm-up round included) of the `rounds + 1` sent. */
      complete: complete[side],
    }
  }
  const ttft = series()
  for (const side of SIDES) ttft[side] = runs[side].map((s) => s.ttftMs)
  return {
    frames,
    gapMs,
    rounds,
    direct: per('direct'),
    floor: per('floor'),
    through: per('through'),
    addedTtftMs: addedOverDirect(ttft),
  }
}
export type Streaming = Awaited<ReturnType<typeof streaming>>

interface CpuSum {
  /** Clock ticks of the gateway process (the floor's or Cortex's) and of the upstream, over every batch. */
  ticks: { gateway: number; upstream: number }
  wallS: number
  /** Requests, or content frames. */
  units: number
}

/** A gateway's and the upstream's CPU time over `work`, added to `sum`. */
async function addCpu(sum: CpuSum, pids: { gateway: number; upstream: number }, units: number, work: () => Promise<unknown>) {
  const before = { gateway: cpuTicks(pids.gateway), upstream: cpuTicks(pids.upstream) }
  const start = performance.now()
  await work()
  sum.wallS += (performance.now() - start) / 1000
  sum.ticks.gateway += cpuTicks(pids.gateway) - before.gateway
  sum.ticks.upstream += cpuTicks(pids.upstream) - before.upstream
  sum.units += units
}

function perUnit(sum: CpuSum, hz: number) {
  const us = (ticks: number) => ((ticks / hz) * 1e6) / sum.units
  return { ...sum, us: { gateway: us(sum.ticks.gateway), upstream: us(sum.ticks.upstream) } }
}

/**
 * The floor's and Cortex's CPU time (utime+stime) over batches of non-stream requests and of zero-gap streams,
 * each batch run once per gateway per round in random order; the mock's over the same batches for scale.
 */
export async function gatewayCpu(
  t: Target,
  pids: Record<Gateway, number> & { upstream: number },
  hz: number,
  plan: { rounds: number; requests: number; streams: number; framesEach: number },
  tally: Tally,
) {
  const empty = (): CpuSum => ({ ticks: { gateway: 0, upstream: 0 }, wallS: 0, units: 0 })
  const requests: Record<Gateway, CpuSum> = { floor: empty(), through: empty() }
  const streams: Record<Gateway, CpuSum> = { floor: empty(), through: empty() }
  const make = () => chatRequest(t.model, 300)
  const complete = { floor: 0, through: 0 }
  const zeroGapStreams = async (pool: Pool, side: Gateway) => {
    let next = 0
    const worker = async () => {
      while (next++ < plan.streams) {
        const s = await timedStream(pool, CHAT, streamRequest(t.model, plan.framesEach, 0), tally)
        if (checkFrames(tally, s, plan.framesEach, `zero-gap stream ${side}`)) complete[side]++
      }
    }
    await Promise.all(Array.from({ length: 5 }, worker))
  }
  for (let round = 0; round < plan.rounds; round++) {
    for (const side of shuffled(GATEWAYS)) {
      const work = () => closedLoop(t.pools[side], CHAT, { concurrency: 8, count: plan.requests, make, tally })
      await addCpu(requests[side], { gateway: pids[side], upstream: pids.upstream }, plan.requests, work)
    }
    for (const side of shuffled(GATEWAYS)) {
      const work = () => zeroGapStreams(t.pools[side], side)
      await addCpu(streams[side], { gateway: pids[side], upstream: pids.upstream }, plan.streams * plan.framesEach, work)
    }
  }
  return {
    rounds: plan.rounds,
    /** `us` is µs per request; `units` the requests over all rounds. */
    requests: {
      batch: plan.requests,
      concurrency: 8,
      floor: perUnit(requests.floor, hz),
      through: perUnit(requests.through, hz),
    },
    /** `us` is µs per content frame; `units` the content frames over all rounds. */
    streams: {
      batch: plan.streams,
      framesEach: plan.framesEach,
      concurrency: 5,
      floor: perUnit(streams.floor, hz),
      through: perUnit(streams.through, hz),
      /** Streams with every frame, of `rounds × batch` per gateway. */
      complete,
    },
  }
}
export type GatewayCpu = Awaited<ReturnType<typeof gatewayCpu>>
