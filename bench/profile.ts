/**
 * Where Cortex's CPU per request goes: `npx tsx bench/profile.ts [--requests N] [--ref <commit>] [--no-build]`.
 * Starts the mock and Cortex (configured as in `npm run bench`, pinned alike) with `node --cpu-prof`, sends N
 * non-stream 0.3 KB requests at concurrency 8 (the CPU-per-request loop), stops Cortex with SIGTERM so that it writes
 * its profile, and prints the top self-time functions (the `(idle)` samples left out of the shares). The .cpuprofile
 * is kept in the printed folder for a flame graph (Chrome DevTools, speedscope).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { buildCortex } from './build.js'
import { chatRequest, closedLoop, createPool, newTally } from './load.js'
import * as procs from './procs.js'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** Self time (µs) per function — name, file, line — from a V8 .cpuprofile, largest first. */
function selfTimes(profile: Profile): { name: string; us: number }[] {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n.callFrame]))
  const totals = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    const frame = byNode.get(id)
    if (!frame) return
    const file =
      frame.url === ''
        ? ''
        : ` ${frame.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '~/')}:${frame.lineNumber + 1}`
    const name = `${frame.functionName || '(anonymous)'}${file}`
    totals.set(name, (totals.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  return [...totals].map(([name, us]) => ({ name, us })).sort((a, b) => b.us - a.us)
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { values: flags } = parseArgs({
  options: { requests: { type: 'string', default: '4000' }, ref: { type: 'string' }, 'no-build': { type: 'boolean' } },
})
const requests = Number(flags.requests)
if (!Number.isInteger(requests) || requests < 1) throw new Error(`--requests expects a whole number (got ${flags.requests})`)

const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-profile-'))
try {
  const { pinning } = procs.planPinning()
  const build = buildCortex(root, { ref: flags.ref, noBuild: flags['no-build'] === true, dir })
  const mock = await procs.startMock(dir, pinning?.upstream ?? null)
  const config = path.join(dir, 'cortex.yaml')
  const dataDir = path.join(dir, 'data')
  writeFileSync(
    config,
    `models:\n  - name: mock\n    engine: openai\n    runtime: remote\n    baseUrl: http://127.0.0.1:${mock.port}/v1\n`,
  )
  procs.createBenchKey(build.bin, dataDir)
  const nodeArgs = ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '100']
  const cortex = await procs.startCortex('cortex', dir, {
    bin: build.bin,
    config,
    dataDir,
    core: pinning?.gateway ?? null,
    nodeArgs,
  })
  if (pinning) procs.pinRunning(process.pid, pinning.load)
  const pool = createPool(cortex.url, 8)
  const tally = newTally()
  const make = () => chatRequest('mock', 300)
  // Warm-up (the model's first request, JIT), then the measured loop; the profile covers both, the loop dominates.
  await closedLoop(pool, '/v1/chat/completions', { concurrency: 8, count: 200, make, tally })
  const ticks = procs.cpuTicks(cortex.proc.pid)
  await closedLoop(pool, '/v1/chat/completions', { concurrency: 8, count: requests, make, tally })
  const loopTicks = procs.cpuTicks(cortex.proc.pid) - ticks
  await pool.close()
  await procs.stopAll()
  if (tally.errors + tally.corrupt > 0) throw new Error(`answers went wrong: ${tally.samples.join('; ')}`)
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
  if (!file) throw new Error(`Cortex wrote no .cpuprofile in ${dir} (did it exit on SIGTERM?)`)
  const times = selfTimes(JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Profile)
  const busy = times.filter((t) => t.name !== '(idle)')
  const total = busy.reduce((sum, t) => sum + t.us, 0)
  const hz = procs.clockTicksPerSecond().hz
  console.log(`${build.source}: ${requests} requests, ${((loopTicks / hz) * 1e6) / requests} µs CPU per request (ticks)`)
  console.log(`profile ${path.join(dir, file)}; ${(total / 1000).toFixed(0)} ms of non-idle samples`)
  console.log(`${'self ms'.padStart(8)} ${'share'.padStart(6)}  function`)
  for (const t of busy.slice(0, 15))
    console.log(`${(t.us / 1000).toFixed(1).padStart(8)} ${((100 * t.us) / total).toFixed(1).padStart(5)}%  ${t.name}`)
} finally {
  await procs.stopAll()
}
