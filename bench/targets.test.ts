import { describe, expect, it } from 'vitest'
import { atLeast, atMost, checkTargets, targetText, valueText, type TargetCheck, type TargetInputs } from './targets.js'

/** Figures that meet every target; each case changes one or two. */
function passing(): TargetInputs {
  return {
    latency: {
      small: { floor: { median: 0.3, p99: 1 }, through: { median: 0.4, p99: 1.5 } },
      large: { floor: { median: 1 }, through: { median: 1.4 } },
    },
    requestsPerSecond: { floor: 4000, through: 3600 },
    addedTtftMs: { floor: { median: 0.3 }, through: { median: 0.5 } },
    cpuUs: { request: { floor: 100, through: 120 }, frame: { floor: 10, through: 11 } },
    cortexStreams: { sent: 89, complete: 89 },
    manyStreams: { streams: 1000, complete: 1000, rssMb: { before: 100, after: 115 } },
    idleRssMb: 70,
  }
}

const byId = (inputs: TargetInputs) => new Map(checkTargets(inputs).map((c) => [c.id, c]))

describe('atMost / atLeast', () => {
  it.each([
    ['atMost on the limit', atMost('cpu.request', 'ratio', 1.3, 1.3), true],
    ['atMost just over', atMost('cpu.request', 'ratio', 1.31, 1.3), false],
    ['atLeast on the limit', atLeast('throughput', 'ratio', 0.85, 0.85), true],
    ['atLeast just under', atLeast('throughput', 'ratio', 0.84, 0.85), false],
    ['atMost of NaN (a figure that was not measured)', atMost('ttft', 'overFloor', Number.NaN, 1), false],
    ['atLeast of NaN', atLeast('throughput', 'ratio', Number.NaN, 1), false],
  ])('%s → pass %s', (_name, check, pass) => {
    expect(check.pass).toBe(pass)
  })
})

describe('checkTargets', () => {
  it('meets every target with figures inside them, one check per target of the issue', () => {
    const checks = checkTargets(passing())
    expect(checks.filter((c) => !c.pass)).toEqual([])
    expect(checks.map((c) => c.id)).toEqual([
      'latency.small.p50',
      'latency.small.p99',
      'latency.large.p50',
      'throughput',
      'cpu.request',
      'cpu.frame',
      'streams.frames',
      'ttft',
      'many.complete',
      'many.rss',
      'idle.rss',
    ])
  })

  it.each<[string, (r: TargetInputs) => void, TargetCheck['id'], number]>([
    ['0.3 KB p50 more than floor + 0.15 ms', (r) => (r.latency.small.through.median = 0.46), 'latency.small.p50', 0.16],
    ['0.3 KB p99 more than floor + 1 ms', (r) => (r.latency.small.through.p99 = 2.1), 'latency.small.p99', 1.1],
    [
      '1 MB p50 over 1.5 ms, whatever the floor',
      (r) => (r.latency.large = { floor: { median: 1.6 }, through: { median: 1.6 } }),
      'latency.large.p50',
      1.6,
    ],
    ['req/s below 0.85× the floor', (r) => (r.requestsPerSecond.through = 3000), 'throughput', 0.75],
    ['CPU per request over 1.3× the floor', (r) => (r.cpuUs.request.through = 140), 'cpu.request', 1.4],
    ['CPU per frame over 1.2× the floor', (r) => (r.cpuUs.frame.through = 12.5), 'cpu.frame', 1.25],
    ['a stream through Cortex short of a frame', (r) => (r.cortexStreams.complete = 88), 'streams.frames', 88],
    ['TTFT more than floor + 0.3 ms', (r) => (r.addedTtftMs.through.median = 0.7), 'ttft', 0.4],
    ['999 of 1000 concurrent streams complete', (r) => (r.manyStreams.complete = 999), 'many.complete', 999],
    ['RSS after the streams over 1.2× before', (r) => (r.manyStreams.rssMb.after = 121), 'many.rss', 1.21],
    ['idle serve over 80 MB', (r) => (r.idleRssMb = 126), 'idle.rss', 126],
  ])('%s: only that target is not met', (_name, change, id, value) => {
    const inputs = passing()
    change(inputs)
    const checks = byId(inputs)
    expect([...checks.values()].filter((c) => !c.pass).map((c) => c.id)).toEqual([id])
    expect(checks.get(id)!.value).toBeCloseTo(value, 9)
  })

  it('takes the floor out of ratios and differences: a slower floor forgives a slower Cortex', () => {
    const inputs = passing()
    inputs.cpuUs.request = { floor: 200, through: 250 }
    inputs.latency.small = { floor: { median: 0.9, p99: 3 }, through: { median: 1, p99: 3.9 } }
    expect([...byId(inputs).values()].every((c) => c.pass)).toBe(true)
  })
})

describe('targetText / valueText', () => {
  it.each([
    [atMost('cpu.request', 'ratio', 1.4167, 1.3), '≤ 1.3× floor', '1.42×'],
    [atLeast('throughput', 'ratio', 0.18, 0.85), '≥ 0.85× floor', '0.18×'],
    [atMost('latency.small.p50', 'overFloor', 0.96, 0.15, 'ms'), '≤ floor + 0.15 ms', '+0.960 ms'],
    [atMost('ttft', 'overFloor', -0.02, 0.3, 'ms'), '≤ floor + 0.3 ms', '-0.020 ms'],
    [atMost('latency.large.p50', 'absolute', 3.245, 1.5, 'ms'), '≤ 1.50 ms', '3.25 ms'],
    [atLeast('many.complete', 'absolute', 1000, 1000), '≥ 1000', '1000'],
    [atMost('many.rss', 'absolute', 1.09, 1.2, '×'), '≤ 1.20×', '1.09×'],
    [atMost('idle.rss', 'absolute', 107, 80, 'MB'), '≤ 80 MB', '107 MB'],
    [atMost('cpu.frame', 'ratio', Number.NaN, 1.2), '≤ 1.2× floor', '—'],
  ])('%o prints target %s and value %s', (check, target, value) => {
    expect(targetText(check)).toBe(target)
    expect(valueText(check)).toBe(value)
  })
})
