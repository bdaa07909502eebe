/** The bench's printed table and its targets (PASS/MISS is printed only, never an exit status). */
import type { Tally } from './load.js'
import type { GatewayCpu, Latency, Streaming, Throughput } from './measure.js'
import type { Pinning } from './procs.js'

export interface MockStats {
  requests: number
  corrupt: number
  lastCorruption: string | null
}

export interface Results {
  env: {
    node: string
    cores: number
    cpu: string | undefined
    pinning: Pinning | null
    pinningNote: string
    clock: { hz: number; source: string }
  }
  quick: boolean
  latency: { label: string; result: Latency }[]
  throughput: Throughput
  streaming: Streaming
  cpu: GatewayCpu
  corruption: { mock: MockStats; client: Tally }
}

export interface TargetCheck {
  target: string
  value: number
  pass: boolean
}

export function checkTargets(r: Results): TargetCheck[] {
  const latency = r.latency.map(({ label, result }) => {
    const limit = result.bytes >= 1024 * 1024 ? 4 : 0.5
    return { target: `added p50, ${label} ≤ ${limit} ms`, value: result.added.median, pass: result.added.median <= limit }
  })
  return [
    ...latency,
    { target: 'throughput through/direct ≥ 0.90', value: r.throughput.ratio, pass: r.throughput.ratio >= 0.9 },
    { target: 'stream frame rate through/direct ≥ 0.98', value: r.streaming.rateRatio, pass: r.streaming.rateRatio >= 0.98 },
    { target: 'gateway CPU ≤ 150 µs per request', value: r.cpu.requests.us.gateway, pass: r.cpu.requests.us.gateway <= 150 },
    { target: 'gateway CPU ≤ 30 µs per SSE frame', value: r.cpu.streams.us.gateway, pass: r.cpu.streams.us.gateway <= 30 },
  ]
}

const fmt = (v: number, digits = 3) => (Number.isFinite(v) ? v.toFixed(digits) : '—')
const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(32) : c.padStart(12))).join(' ')
const range = (xs: number[]) => (Math.min(...xs) === Math.max(...xs) ? String(xs[0]) : `${Math.min(...xs)}–${Math.max(...xs)}`)

export function formatReport(r: Results, targets: TargetCheck[]): string {
  const { env, throughput: tp, streaming: st, cpu } = r
  const out = [
    `Cortex bench${r.quick ? ' (--quick)' : ''} — node ${env.node}, ${env.cores} cores (${env.cpu ?? 'unknown CPU'})`,
    `pinning: ${env.pinning ? `gateway → core ${env.pinning.gateway}; upstreams + load generator → core ${env.pinning.upstream}` : env.pinningNote}`,
    '',
    'Added latency, concurrency 1, non-stream (ms; added = per-round paired difference through − direct)',
    row(['', 'direct p50', 'through p50', 'added p50', 'added p99', 'added IQR', 'rounds']),
  ]
  for (const { label, result: l } of r.latency) {
    out.push(
      row([
        label,
        fmt(l.direct.median),
        fmt(l.through.median),
        fmt(l.added.median),
        fmt(l.added.p99),
        fmt(l.added.iqr),
        String(l.added.n),
      ]),
    )
  }
  out.push(
    '',
    `Throughput, concurrency ${tp.concurrency}, mock 0.3 KB (${tp.rounds} rounds × ${tp.durationMs} ms per side, random order)`,
    row(['', 'direct req/s', 'through req/s', 'ratio']),
    row(['', fmt(tp.direct, 0), fmt(tp.through, 0), fmt(tp.ratio)]),
    '',
    `Paced stream, mock ${st.frames} frames × ${st.gapMs} ms, include_usage (${st.rounds} rounds, random order)`,
    row(['', 'TTFT p50 ms', 'mean gap ms', 'frames/s', 'content fr.', 'usage fr.']),
  )
  for (const side of ['direct', 'through'] as const) {
    const s = st[side]
    out.push(
      row([
        side,
        fmt(s.ttftMs.median),
        fmt(s.meanGapMs),
        fmt(s.framesPerSecond, 2),
        range(s.contentFrames),
        range(s.usageFrames),
      ]),
    )
  }
  out.push(
    row(['added TTFT (paired p50, IQR)', fmt(st.addedTtftMs.median), fmt(st.addedTtftMs.iqr)]),
    row(['frame rate through/direct', fmt(st.rateRatio, 4)]),
    '',
    `CPU time, utime+stime from /proc/<pid>/stat (${env.clock.hz} ticks/s, ${env.clock.source}); the mock for scale`,
    row(['', 'Cortex ticks', 'Cortex µs', 'mock µs', 'wall s']),
    row([
      `per request: ${cpu.requests.count} req., c=${cpu.requests.concurrency}`,
      String(cpu.requests.cpuTicks.gateway),
      fmt(cpu.requests.us.gateway, 1),
      fmt(cpu.requests.us.upstream, 1),
      fmt(cpu.requests.wallS, 2),
    ]),
    row([
      `per frame: ${cpu.streams.count} × ${cpu.streams.framesEach} fr., c=${cpu.streams.concurrency}`,
      String(cpu.streams.cpuTicks.gateway),
      fmt(cpu.streams.us.gateway, 1),
      fmt(cpu.streams.us.upstream, 1),
      fmt(cpu.streams.wallS, 2),
    ]),
  )
  const { mock, client } = r.corruption
  out.push(
    '',
    `Corruption: ${mock.corrupt + client.corrupt} (mock rejected ${mock.corrupt} of ${mock.requests} bodies; client found ${client.corrupt}); ` +
      `errors: ${client.errors}`,
  )
  if (mock.lastCorruption) out.push(`  mock: ${mock.lastCorruption}`)
  for (const sample of client.samples) out.push(`  client: ${sample}`)
  out.push('', 'Targets (printed only; timing never fails the bench)')
  for (const t of targets) out.push(`  ${t.pass ? 'PASS' : 'MISS'}  ${t.target.padEnd(52)} ${fmt(t.value)}`)
  return out.join('\n')
}
