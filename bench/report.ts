/**
 * The bench's one printed table: every Cortex figure beside the floor's and direct's, its ratio or difference to
 * the floor, and the issue's target with met / not met (printed only, never an exit status).
 */
import type { Tally } from './load.js'
import type { GatewayCpu, Latency, Streaming, Throughput } from './measure.js'
import type { IdleServe, ManyStreams } from './memory.js'
import type { Pinning } from './procs.js'
import type { Summary } from './stats.js'
import { targetText, valueText, type TargetCheck, type TargetId, type TargetInputs } from './targets.js'

export interface MockStats {
  requests: number
  corrupt: number
  lastCorruption: string | null
}

export interface Results {
  env: {
    /** What was built and measured (bench/build.ts). */
    cortex: string
    node: string
    cores: number
    cpu: string | undefined
    pinning: Pinning | null
    pinningNote: string
    clock: { hz: number; source: string }
  }
  quick: boolean
  latency: { small: Latency; mid: Latency; large: Latency; llama: Latency | null }
  throughput: Throughput
  streaming: Streaming
  cpu: GatewayCpu
  /** bench/usage-write.ts --json, pinned to the gateway's core: µs per committed row, measured alone. */
  /** recordGrouped with 1 row per event-loop turn, and with 8. */
  usageWrite: { rows: number; usPerRow: Summary; usPerRowIn8: Summary }
  manyStreams: ManyStreams
  idle: IdleServe
  corruption: { mock: MockStats; client: Tally }
}

/** What the targets read, picked out of the results. */
export function targetInputs(r: Results): TargetInputs {
  const { streaming: st, cpu } = r
  return {
    latency: { small: r.latency.small.added, large: r.latency.large.added },
    requestsPerSecond: r.throughput.requestsPerSecond,
    addedTtftMs: st.addedTtftMs,
    cpuUs: {
      request: { floor: cpu.requests.floor.us.gateway, through: cpu.requests.through.us.gateway },
      frame: { floor: cpu.streams.floor.us.gateway, through: cpu.streams.through.us.gateway },
    },
    cortexStreams: {
      sent: st.rounds + 1 + cpu.rounds * cpu.streams.batch,
      complete: st.through.complete + cpu.streams.complete.through,
    },
    manyStreams: r.manyStreams,
    idleRssMb: r.idle.rssMb,
  }
}

type Cells = [figure: string, direct: string, floor: string, cortex: string, vsFloor: string, target: string, verdict: string]
const WIDTHS = [50, 10, 10, 18, 20, 18, 7]
const line = (cells: Cells | string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(WIDTHS[0]!) : c.padStart(WIDTHS[i]!))).join(' ')
const fmt = (v: number, digits = 3) => (Number.isFinite(v) ? v.toFixed(digits) : '—')
const signed = (v: number, unit: string) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(3)} ${unit}` : '—')
const of = (complete: number, sent: number) => `${complete}/${sent}`

export function formatReport(r: Results, checks: TargetCheck[]): string {
  const { env, latency, throughput: tp, streaming: st, cpu, usageWrite: uw, manyStreams: many, idle } = r
  const byId = new Map(checks.map((c) => [c.id, c]))
  const check = (id: TargetId) => {
    const c = byId.get(id)
    if (!c) throw new Error(`no target ${id}`)
    return c
  }
  /** The last three cells for a row with a target: Cortex vs floor (or `vs` when given), target, verdict. */
  const judged = (id: TargetId, vs?: string): [string, string, string] => {
    const c = check(id)
    return [vs ?? valueText(c), targetText(c), c.pass ? 'met' : 'not met']
  }
  const rows: Cells[] = []
  const latencyRows = (label: string, l: Latency, ids: { p50?: TargetId; p99?: TargetId }) => {
    const vs50 = signed(l.added.through.median - l.added.floor.median, 'ms')
    rows.push([
      `${label}: added p50 ms`,
      fmt(l.direct.median),
      fmt(l.added.floor.median),
      fmt(l.added.through.median),
      ...(ids.p50 ? judged(ids.p50, vs50) : ([vs50, '', ''] as const)),
    ])
    if (ids.p99) {
      const vs99 = signed(l.added.through.p99 - l.added.floor.p99, 'ms')
      rows.push(['  added p99 ms', fmt(l.direct.p99), fmt(l.added.floor.p99), fmt(l.added.through.p99), ...judged(ids.p99, vs99)])
    }
  }
  latencyRows('0.3 KB, c=1', latency.small, { p50: 'latency.small.p50', p99: 'latency.small.p99' })
  latencyRows('100 KB, c=1', latency.mid, {})
  latencyRows('1 MB, c=1', latency.large, { p50: 'latency.large.p50' })
  if (latency.llama) latencyRows('llama-server 0.3 KB, 8 tok., c=1', latency.llama, {})

  const rps = tp.requestsPerSecond
  rows.push([
    `req/s, c=${tp.concurrency}, 0.3 KB`,
    fmt(rps.direct, 0),
    fmt(rps.floor, 0),
    fmt(rps.through, 0),
    ...judged('throughput'),
  ])
  const req = cpu.requests
  rows.push([
    `gateway CPU µs per request, 0.3 KB, c=${req.concurrency}`,
    '—',
    fmt(req.floor.us.gateway, 1),
    fmt(req.through.us.gateway, 1),
    ...judged('cpu.request'),
  ])
  const share = (us: number) => `${fmt((100 * us) / req.through.us.gateway, 1)}% of Cortex's`
  rows.push([
    '  usage row commit µs (alone), 1 per turn: p50',
    '',
    '',
    fmt(uw.usPerRow.median, 1),
    share(uw.usPerRow.median),
    'printed (issue 10)',
    '',
  ])
  rows.push(['    mean', '', '', fmt(uw.usPerRow.mean, 1), share(uw.usPerRow.mean), '', ''])
  rows.push(['    8 per turn: mean', '', '', fmt(uw.usPerRowIn8.mean, 1), share(uw.usPerRowIn8.mean), '', ''])
  rows.push([
    '  mock CPU µs per request (scale)',
    '—',
    fmt(req.floor.us.upstream, 1),
    fmt(req.through.us.upstream, 1),
    '',
    '',
    '',
  ])
  const fr = cpu.streams
  rows.push([
    `gateway CPU µs per SSE frame (${fr.framesEach}-frame streams)`,
    '—',
    fmt(fr.floor.us.gateway, 2),
    fmt(fr.through.us.gateway, 2),
    ...judged('cpu.frame'),
  ])
  const sent = { paced: st.rounds + 1, zeroGap: cpu.rounds * fr.batch }
  rows.push([
    'streams with every frame (paced + zero-gap)',
    of(st.direct.complete, sent.paced),
    of(st.floor.complete + fr.complete.floor, sent.paced + sent.zeroGap),
    of(st.through.complete + fr.complete.through, sent.paced + sent.zeroGap),
    ...judged('streams.frames', ''),
  ])
  const ttft = st.addedTtftMs
  rows.push([
    `TTFT ms, ${st.frames} frames × ${st.gapMs} ms: added p50`,
    fmt(st.direct.ttftMs.median),
    fmt(ttft.floor.median),
    fmt(ttft.through.median),
    ...judged('ttft'),
  ])
  const fps = { direct: st.direct.framesPerSecond, floor: st.floor.framesPerSecond, through: st.through.framesPerSecond }
  rows.push([
    '  frames/s (median over streams)',
    fmt(fps.direct, 2),
    fmt(fps.floor, 2),
    fmt(fps.through, 2),
    `${fmt(fps.through / fps.floor, 4)}×`,
    '',
    '',
  ])
  rows.push([
    `${many.streams} streams at once, ${many.frames} × ${many.gapMs} ms: complete`,
    '',
    '',
    of(many.complete, many.streams),
    '',
    ...judged('many.complete').slice(1),
  ] as Cells)
  const mb = many.rssMb
  rows.push([
    '  Cortex RSS MB before / peak / after',
    '',
    '',
    `${fmt(mb.before, 0)} / ${fmt(mb.peak, 0)} / ${fmt(mb.after, 0)}`,
    ...judged('many.rss', `after/before ${valueText(check('many.rss'))}`),
  ])
  rows.push(['cortex serve idle, no models: RSS MB', '', '', fmt(idle.rssMb, 1), '', ...judged('idle.rss').slice(1)] as Cells)

  const { mock, client } = r.corruption
  const out = [
    `Cortex bench${r.quick ? ' (--quick)' : ''}: ${env.cortex}; node ${env.node}, ${env.cores} cores (${env.cpu ?? 'unknown CPU'})`,
    `pinning: ${env.pinning ? `Cortex and floor → core ${env.pinning.gateway}; mock, llama-server, load generator → core ${env.pinning.upstream}` : env.pinningNote}`,
    `CPU: utime+stime of /proc/<pid>/stat at ${env.clock.hz} ticks/s (${env.clock.source}); ${cpu.rounds} rounds of ${req.batch} requests and of ${fr.batch} streams per gateway`,
    'latency rows: direct = its own p50/p99; floor and Cortex = added over direct, median of per-round paired differences',
    '',
    line(['', 'direct', 'floor', 'Cortex', 'Cortex vs floor', 'target', 'met?']),
    ...rows.map(line),
    '',
    `corruption: ${mock.corrupt + client.corrupt} (mock rejected ${mock.corrupt} of ${mock.requests} bodies; client found ${client.corrupt}); errors: ${client.errors}`,
  ]
  if (mock.lastCorruption) out.push(`  mock: ${mock.lastCorruption}`)
  for (const sample of client.samples) out.push(`  client: ${sample}`)
  out.push(
    `usage row commit: bench/usage-write.ts, ${uw.rows} rows of store.usage.recordGrouped on a fresh database, pinned like Cortex, wall µs per`,
    "  row from record to commit (WAL, synchronous=NORMAL), one row per event-loop turn and eight (one commit each turn); Cortex's CPU",
    '  per request above already includes its own row, so this is a share of it.',
    'timing is noisy on a small shared machine: targets are printed only, never an exit status.',
  )
  return out.join('\n')
}
