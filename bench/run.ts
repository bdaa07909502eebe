/**
 * `npm run bench [-- --quick] [-- --no-build] [-- --no-llama]`: direct-to-upstream against through-Cortex,
 * interleaved in random order round by round, on a validating mock and on llama-server with the tiny
 * model. Prints a table and the targets; writes bench/results/<time>.json. Exits non-zero only when the
 * setup is broken or an answer was corrupt or failed — never because of timing. See bench/README.md.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { request } from 'undici'
import { HEADERS, chatRequest, createPool, newTally } from './load.js'
import { addedLatency, gatewayCpu, streaming, throughput, type Target } from './measure.js'
import * as procs from './procs.js'
import { findLlamaServer } from '../test/support/substrate.js'
import { checkTargets, formatReport, type MockStats, type Results } from './report.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
process.chdir(root)
const { values: flags } = parseArgs({
  options: { quick: { type: 'boolean' }, 'no-build': { type: 'boolean' }, 'no-llama': { type: 'boolean' } },
})
const quick = flags.quick === true
const plan = quick
  ? {
      rounds: { small: 200, mid: 100, large: 30, llama: 40 },
      tputRounds: 2,
      tputMs: 1000,
      streamRounds: 3,
      cpuRequests: 1000,
      cpuStreams: 20,
    }
  : {
      rounds: { small: 1000, mid: 400, large: 100, llama: 200 },
      tputRounds: 4,
      tputMs: 2500,
      streamRounds: 8,
      cpuRequests: 2000,
      cpuStreams: 50,
    }

function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`)
}

/** Remote models only: direct and through-Cortex reach the very same upstream processes. */
function cortexYaml(mockPort: number, llamaPort: number | null): string {
  const model = (name: string, engine: string, port: number) =>
    `  - name: ${name}\n    engine: ${engine}\n    runtime: remote\n    baseUrl: http://127.0.0.1:${port}/v1\n`
  return `models:\n${model('mock', 'openai', mockPort)}${llamaPort === null ? '' : model('tiny', 'llamacpp', llamaPort)}`
}

/** Remote models start on their first request, then are health-polled: measuring starts once all are `running`. */
async function startModels(url: string, names: string[], cortex: procs.Proc): Promise<void> {
  for (const name of names) {
    const res = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: HEADERS,
      body: chatRequest(name, 300, { max_tokens: 1 }).body,
    })
    const text = await res.body.text()
    if (res.statusCode !== 200)
      throw new Error(`first request for ${name} through Cortex: HTTP ${res.statusCode} ${text.slice(0, 500)}`)
  }
  let last: unknown
  const running = async () => {
    last = await procs.getJson(`${url}/v1/models`, HEADERS)
    const data = (last as { data?: { id?: string; state?: string }[] } | undefined)?.data ?? []
    return names.every((n) => data.some((m) => m.id === n && m.state === 'running')) ? true : undefined
  }
  await procs.waitFor(`${names.join(', ')} running in ${url}/v1/models`, running, 60_000, cortex).catch((err: Error) => {
    throw new Error(`${err.message}\nlast /v1/models: ${JSON.stringify(last)}`)
  })
}

async function tinyLlama(dir: string): Promise<{ bin: string; model: string }> {
  log('llama-server: CORTEX_LLAMA_SERVER, else scripts/build-llama-server.sh (cached after the first build)')
  const bin = await findLlamaServer()
  const { writeTinyLlama } = await import('../test/support/gguf-writer.js')
  const model = path.join(dir, 'tiny.gguf')
  await writeTinyLlama(model)
  return { bin, model }
}

async function main(dir: string): Promise<number> {
  const { pinning, why } = procs.planPinning()
  const clock = procs.clockTicksPerSecond()
  const cores = os.availableParallelism() // before this process is pinned to one core
  if (!flags['no-build']) {
    log('building dist/ (tsc -p tsconfig.build.json)')
    const tsc = spawnSync(path.join('node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], { stdio: 'inherit' })
    if (tsc.status !== 0) throw new Error('tsc -p tsconfig.build.json failed')
  }
  const llama = flags['no-llama'] ? null : await tinyLlama(dir)
  log(
    pinning
      ? `pinning (${why}): gateway → core ${pinning.gateway}; upstreams + load generator → core ${pinning.upstream}`
      : `pinning: ${why}`,
  )
  const mock = await procs.startMock(dir, pinning?.upstream ?? null)
  const engine = llama ? await procs.startLlamaServer(dir, llama.bin, llama.model, pinning?.upstream ?? null) : null
  const config = path.join(dir, 'cortex.yaml')
  writeFileSync(config, cortexYaml(mock.port, engine?.port ?? null))
  const cortex = await procs.startCortex(dir, config, pinning?.gateway ?? null)
  await startModels(cortex.url, engine ? ['mock', 'tiny'] : ['mock'], cortex.proc)
  if (pinning) procs.pinRunning(process.pid, pinning.load)
  log(
    `mock :${mock.port}${engine ? `, llama-server :${engine.port}` : ''}, Cortex ${cortex.url} (pid ${cortex.proc.pid}); logs in ${dir}`,
  )

  const tally = newTally()
  const through = createPool(cortex.url, 32)
  const mockT: Target = { model: 'mock', direct: createPool(`http://127.0.0.1:${mock.port}`, 32), through, echoes: true }
  const llamaT: Target | null = engine
    ? { model: 'tiny', direct: createPool(`http://127.0.0.1:${engine.port}`, 4), through, echoes: false }
    : null

  log('added latency at concurrency 1')
  const latency: Results['latency'] = []
  for (const [label, bytes, rounds] of [
    ['mock 0.3 KB', 300, plan.rounds.small],
    ['mock 100 KB', 100 * 1024, plan.rounds.mid],
    ['mock 1 MB', 1024 * 1024, plan.rounds.large],
  ] as const) {
    latency.push({ label, result: await addedLatency(mockT, bytes, rounds, {}, tally) })
  }
  if (llamaT) {
    const result = await addedLatency(llamaT, 300, plan.rounds.llama, { max_tokens: 8, ignore_eos: true }, tally)
    latency.push({ label: 'llama-server 0.3 KB, 8 tokens', result })
  }
  log('throughput at concurrency 32')
  const tput = await throughput(mockT, plan.tputRounds, plan.tputMs, tally)
  log('paced streams')
  const stream = await streaming(mockT, plan.streamRounds, 64, 20, tally)
  log('gateway CPU time')
  const batch = { requests: plan.cpuRequests, streams: plan.cpuStreams, framesEach: 500 }
  const cpu = await gatewayCpu(mockT, { gateway: cortex.proc.pid, upstream: mock.proc.pid }, clock.hz, batch, tally)
  const mockStats = (await procs.getJson(`http://127.0.0.1:${mock.port}/bench/stats`)) as MockStats
  await Promise.all([mockT.direct, through, ...(llamaT ? [llamaT.direct] : [])].map((p) => p.close()))

  const results: Results = {
    env: { node: process.version, cores, cpu: os.cpus()[0]?.model, pinning, pinningNote: why, clock },
    quick,
    latency,
    throughput: tput,
    streaming: stream,
    cpu,
    corruption: { mock: mockStats, client: tally },
  }
  const targets = checkTargets(results)
  process.stdout.write(`\n${formatReport(results, targets)}\n`)
  mkdirSync(path.join(root, 'bench/results'), { recursive: true })
  const file = path.join(root, 'bench/results', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, `${JSON.stringify({ ...results, plan, targets }, null, 2)}\n`)
  process.stdout.write(`\nresults: ${path.relative(root, file)}\n`)
  return mockStats.corrupt + tally.corrupt + tally.errors > 0 ? 1 : 0
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-bench-'))
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping what the bench started; logs kept in ${dir}`)
    void procs.stopAll().then(() => process.exit(130))
  })
}
try {
  process.exitCode = await main(dir)
} catch (err) {
  process.stderr.write(`[bench] setup failed: ${(err as Error).message}\n`)
  process.exitCode = 1
} finally {
  await procs.stopAll()
}
if (process.exitCode === 0) rmSync(dir, { recursive: true, force: true })
else process.stderr.write(`[bench] logs kept in ${dir}\n`)
