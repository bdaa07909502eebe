/**
 * `npm run bench [-- --quick] [-- --no-build] [-- --no-llama]`: each upstream (a validating mock, llama-server with
 * the tiny model) reached three ways — direct, through the floor (bench/floor.ts) and through Cortex — interleaved
 * in random order round by round; then 1,000 paced streams through Cortex with its RSS, the durable usage write
 * (bench/usage-write.ts) and an idle `cortex serve`. Prints one table with the targets; writes
 * bench/results/<time>.json. Exits non-zero only when the setup is broken or an answer was corrupt, short or
 * failed — never because of timing. See bench/README.md.
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
import { cacheHitLatency, formatCacheRow } from './cache.js'
import { idleServe, manyStreams } from './memory.js'
import * as procs from './procs.js'
import { buildCortex } from './build.js'
import { findLlamaServer } from '../test/support/substrate.js'
import { formatReport, targetInputs, type MockStats, type Results } from './report.js'
import { checkTargets } from './targets.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
process.chdir(root)
const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    'no-build': { type: 'boolean' },
    'no-llama': { type: 'boolean' },
    ref: { type: 'string' },
  },
})
const quick = flags.quick === true
/** 1,000 paced streams, 16 frames 250 ms apart (issue 9), in both modes: the target is about that many at once. */
const many = { streams: 1000, frames: 16, gapMs: 250 }
const plan = quick
  ? {
      rounds: { small: 200, mid: 100, large: 30, llama: 40 },
      tputRounds: 2,
      tputMs: 1000,
      streamRounds: 3,
      cpu: { rounds: 2, requests: 500, streams: 10, framesEach: 500 },
      many: { ...many, settleMs: 2000 },
      idleSettleMs: 1000,
      usageRows: 5000,
    }
  : {
      rounds: { small: 1000, mid: 400, large: 100, llama: 200 },
      tputRounds: 4,
      tputMs: 2500,
      streamRounds: 8,
      cpu: { rounds: 4, requests: 1000, streams: 20, framesEach: 500 },
      many: { ...many, settleMs: 5000 },
      idleSettleMs: 3000,
      usageRows: 20_000,
    }

function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`)
}

/** Remote models only: direct and through-Cortex reach the very same upstream processes. */
function cortexYaml(mockPort: number, llamaPort: number | null): string {
  const model = (name: string, engine: string, port: number) =>
    `  - name: ${name}\n    engine: ${engine}\n    runtime: remote\n    baseUrl: http://127.0.0.1:${port}/v1\n`
  // tiny-cached: the same engine with a completion cache, for the cache row (bench/cache.ts).
  const cached = llamaPort === null ? '' : `${model('tiny-cached', 'llamacpp', llamaPort)}    cache: { ttl: 1h }\n`
  return `models:\n${model('mock', 'openai', mockPort)}${llamaPort === null ? '' : model('tiny', 'llamacpp', llamaPort)}${cached}`
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

/**
 * bench/usage-write.ts --json in its own process on the gateway's core, while nothing else runs: what one durable
 * usage row (store.usage.record) costs, measured alone.
 */
function usageWrite(core: number | null, rows: number): Results['usageWrite'] {
  const script = [process.execPath, '--import', 'tsx', 'bench/usage-write.ts', String(rows), '--json']
  const [cmd, ...args] = core === null ? script : ['taskset', '-c', String(core), ...script]
  const res = spawnSync(cmd!, args, { encoding: 'utf8' })
  if (res.status !== 0) throw new Error(`bench/usage-write.ts failed (exit ${res.status}): ${res.stderr}`)
  return JSON.parse(res.stdout.trim().split('\n').at(-1)!) as Results['usageWrite']
}

async function main(dir: string): Promise<number> {
  const { pinning, why } = procs.planPinning()
  const clock = procs.clockTicksPerSecond()
  const cores = os.availableParallelism() // before this process is pinned to one core
  if (flags.ref !== undefined) log(`building ${flags.ref} in ${dir} (git archive, tsc -p tsconfig.build.json)`)
  else if (!flags['no-build']) log('building dist/ (tsc -p tsconfig.build.json)')
  const build = buildCortex(root, { ref: flags.ref, noBuild: flags['no-build'] === true, dir })
  const llama = flags['no-llama'] ? null : await tinyLlama(dir)
  log(
    pinning
      ? `pinning (${why}): Cortex and floors → core ${pinning.gateway}; upstreams + load generator → core ${pinning.upstream}`
      : `pinning: ${why}`,
  )
  const gatewayCore = pinning?.gateway ?? null
  const mock = await procs.startMock(dir, pinning?.upstream ?? null)
  const engine = llama ? await procs.startLlamaServer(dir, llama.bin, llama.model, pinning?.upstream ?? null) : null
  const mockFloor = await procs.startFloor('floor-mock', dir, mock.port, gatewayCore)
  const engineFloor = engine ? await procs.startFloor('floor-llama', dir, engine.port, gatewayCore) : null
  const config = path.join(dir, 'cortex.yaml')
  const dataDir = path.join(dir, 'data')
  writeFileSync(config, cortexYaml(mock.port, engine?.port ?? null))
  procs.createBenchKey(build.bin, dataDir)
  const cortex = await procs.startCortex('cortex', dir, { bin: build.bin, config, dataDir, core: gatewayCore })
  await startModels(cortex.url, engine ? ['mock', 'tiny', 'tiny-cached'] : ['mock'], cortex.proc)
  if (pinning) procs.pinRunning(process.pid, pinning.load)
  log(
    `mock :${mock.port} (floor :${mockFloor.port})${engine ? `, llama-server :${engine.port} (floor :${engineFloor!.port})` : ''}, ` +
      `Cortex ${cortex.url} (pid ${cortex.proc.pid}); logs in ${dir}`,
  )

  const tally = newTally()
  const through = createPool(cortex.url, 32)
  const local = (port: number, connections: number) => createPool(`http://127.0.0.1:${port}`, connections)
  const mockT: Target = {
    model: 'mock',
    pools: { direct: local(mock.port, 32), floor: local(mockFloor.port, 32), through },
    echoes: true,
  }
  const llamaT: Target | null =
    engine && engineFloor
      ? { model: 'tiny', pools: { direct: local(engine.port, 4), floor: local(engineFloor.port, 4), through }, echoes: false }
      : null

  log('added latency at concurrency 1')
  const latency: Results['latency'] = {
    small: await addedLatency(mockT, 300, plan.rounds.small, {}, tally),
    mid: await addedLatency(mockT, 100 * 1024, plan.rounds.mid, {}, tally),
    large: await addedLatency(mockT, 1024 * 1024, plan.rounds.large, {}, tally),
    llama: llamaT ? await addedLatency(llamaT, 300, plan.rounds.llama, { max_tokens: 8, ignore_eos: true }, tally) : null,
  }
  const cache = llamaT
    ? (log('completion cache hit against the engine'),
      await cacheHitLatency(llamaT.pools, { direct: 'tiny', cached: 'tiny-cached' }, plan.rounds.llama, tally))
    : null
  log('throughput at concurrency 32')
  const tput = await throughput(mockT, plan.tputRounds, plan.tputMs, tally)
  log('paced streams')
  const stream = await streaming(mockT, plan.streamRounds, 64, 20, tally)
  log('gateway CPU time')
  const pids = { floor: mockFloor.proc.pid, through: cortex.proc.pid, upstream: mock.proc.pid }
  const cpu = await gatewayCpu(mockT, pids, clock.hz, plan.cpu, tally)
  // Every other connection to Cortex closes first: 1,000 streams stay below server.maxConnectionsPerClient (1024).
  const pools = [mockT.pools, ...(llamaT ? [llamaT.pools] : [])].flatMap((p) => [p.direct, p.floor])
  await Promise.all([through, ...pools].map((p) => p.close()))
  log(`${plan.many.streams} concurrent paced streams through Cortex`)
  const crowd = await manyStreams({ url: cortex.url, pid: cortex.proc.pid }, 'mock', plan.many, tally)
  log('durable usage write (bench/usage-write.ts)')
  const usage = usageWrite(gatewayCore, plan.usageRows)
  log('idle cortex serve, no models')
  const idle = await idleServe(build.bin, dir, gatewayCore, plan.idleSettleMs)
  const mockStats = (await procs.getJson(`http://127.0.0.1:${mock.port}/bench/stats`)) as MockStats

  const results: Results = {
    env: { cortex: build.source, node: process.version, cores, cpu: os.cpus()[0]?.model, pinning, pinningNote: why, clock },
    quick,
    latency,
    throughput: tput,
    streaming: stream,
    cpu,
    usageWrite: usage,
    manyStreams: crowd,
    idle,
    corruption: { mock: mockStats, client: tally },
  }
  const targets = checkTargets(targetInputs(results))
  process.stdout.write(`\n${formatReport(results, targets)}\n`)
  if (cache) process.stdout.write(`${formatCacheRow(cache)}\n`)
  mkdirSync(path.join(root, 'bench/results'), { recursive: true })
  const file = path.join(root, 'bench/results', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, `${JSON.stringify({ ...results, cache, plan, targets }, null, 2)}\n`)
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
