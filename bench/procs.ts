/** The processes the bench starts (mock, floors, llama-server, Cortex), core pinning, CPU-time and RSS readings. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { openSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { request } from 'undici'
import { freePort } from '../test/support/substrate.js'
import { BENCH_KEY } from './load.js'

export interface Proc {
  name: string
  child: ChildProcess
  pid: number
  log: string
}

const started: Proc[] = []

/** Cores to pin to, or null when taskset is missing or there are fewer than 2 cores. */
export interface Pinning {
  gateway: number
  upstream: number
  load: number
}

export function planPinning(): { pinning: Pinning | null; why: string } {
  if (spawnSync('taskset', ['--version']).status !== 0) return { pinning: null, why: 'taskset not found: no pinning' }
  const cores = os.availableParallelism()
  if (cores < 2) return { pinning: null, why: `${cores} core: no pinning` }
  return { pinning: { gateway: 0, upstream: 1, load: 1 }, why: `taskset, ${cores} cores` }
}

/** Pins every thread of a running process to one core. */
export function pinRunning(pid: number, core: number): void {
  const res = spawnSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { encoding: 'utf8' })
  if (res.status !== 0) throw new Error(`taskset -a -p -c ${core} ${pid} failed: ${res.stderr}`)
}

/** Starts `command args`, under `taskset -c core` when pinned (taskset execs: the pid stays the command's). */
function launch(
  name: string,
  dir: string,
  command: string,
  args: string[],
  core: number | null,
  stdout: 'pipe' | 'log' = 'log',
): Proc {
  const log = path.join(dir, `${name}.log`)
  const fd = openSync(log, 'a')
  const [cmd, argv] = core === null ? [command, args] : ['taskset', ['-c', String(core), command, ...args]]
  const child = spawn(cmd, argv, { stdio: ['ignore', stdout === 'pipe' ? 'pipe' : fd, fd], cwd: process.cwd() })
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`)
  const proc = { name, child, pid: child.pid, log }
  started.push(proc)
  return proc
}

export function logTail(proc: Proc, lines = 30): string {
  return readFileSync(proc.log, 'utf8').split('\n').slice(-lines).join('\n')
}

function exited(proc: Proc): boolean {
  return proc.child.exitCode !== null || proc.child.signalCode !== null
}

/** Polls `check` every 100 ms until it returns a value; fails after `timeoutMs` or when `proc` dies. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, proc?: Proc): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (proc && exited(proc))
      throw new Error(
        `${proc.name} exited (${proc.child.exitCode ?? proc.child.signalCode}) while waiting for ${what}:\n${logTail(proc)}`,
      )
    const value = await check().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${proc ? `; ${proc.name} log:\n${logTail(proc)}` : ''}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** GET url → parsed JSON when the status is 200, else undefined. */
export async function getJson(url: string, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await request(url, { headers })
  const text = await res.body.text()
  return res.statusCode === 200 ? (JSON.parse(text) as unknown) : undefined
}

/** A bench child (`bench/<file>`, under tsx) that prints `<MARKER>=<port>` on stdout once listening. */
async function startBenchServer(
  name: string,
  dir: string,
  args: string[],
  marker: string,
  core: number | null,
): Promise<{ proc: Proc; port: number }> {
  const proc = launch(name, dir, process.execPath, ['--import', 'tsx', ...args], core, 'pipe')
  let out = ''
  proc.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
  const port = await waitFor(`${name} to listen`, async () => new RegExp(`${marker}=(\\d+)`).exec(out)?.[1], 20_000, proc)
  return { proc, port: Number(port) }
}

export function startMock(dir: string, core: number | null): Promise<{ proc: Proc; port: number }> {
  return startBenchServer('mock-upstream', dir, ['bench/mock-upstream.ts'], 'MOCK_PORT', core)
}

/** The floor (bench/floor.ts) in front of `upstreamPort`; `name` tells its log apart when there are several. */
export function startFloor(name: string, dir: string, upstreamPort: number, core: number | null) {
  return startBenchServer(name, dir, ['bench/floor.ts', `http://127.0.0.1:${upstreamPort}`], 'FLOOR_PORT', core)
}

export async function startLlamaServer(
  dir: string,
  bin: string,
  model: string,
  core: number | null,
): Promise<{ proc: Proc; port: number }> {
  const port = await freePort()
  const args = ['-m', model, '--host', '127.0.0.1', '--port', String(port), '-t', '1', '-tb', '1', '-c', '1024', '-np', '1']
  const proc = launch('llama-server', dir, bin, args, core)
  await waitFor(
    'llama-server /health',
    async () => ((await getJson(`http://127.0.0.1:${port}/health`)) ? true : undefined),
    60_000,
    proc,
  )
  return { proc, port }
}

/**
 * The bench's API key, with rpm and tpm limits so high they never refuse: Cortex checks the key and counts both
 * limits on every request, as it does for a client's key with limits.
 */
export function createBenchKey(bin: string, dataDir: string): void {
  const args = ['keys', 'create', '--name', 'bench', '--key', BENCH_KEY, '--rpm', '100000000', '--tpm', '100000000000']
  const key = spawnSync(process.execPath, [bin, ...args, '--data-dir', dataDir], { encoding: 'utf8' })
  if (key.status !== 0) throw new Error(`cortex keys create failed: ${key.stderr}`)
}

/** `node <bin> serve` (bin: a bin/cortex.js) on a free port; resolves with its URL once /readyz answers 200. */
export async function startCortex(
  name: string,
  dir: string,
  opts: { bin: string; config: string; dataDir: string; core: number | null; nodeArgs?: string[] },
): Promise<{ proc: Proc; url: string }> {
  const args = [...(opts.nodeArgs ?? []), opts.bin, 'serve', '--config', opts.config, '--data-dir', opts.dataDir, '--port', '0']
  const proc = launch(name, dir, process.execPath, args, opts.core)
  const url = await waitFor(
    `${name} to listen`,
    async () => /listening on (http:\/\/\S+)/.exec(readFileSync(proc.log, 'utf8'))?.[1],
    30_000,
    proc,
  )
  await waitFor(
    `${name} /readyz`,
    async () => ((await request(`${url}/readyz`).then((r) => r.body.text().then(() => r.statusCode))) === 200 ? true : undefined),
    30_000,
    proc,
  )
  return { proc, url }
}

/** User + system CPU time of a process so far, in clock ticks (fields 14 and 15 of /proc/<pid>/stat). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // fields from 3 (state) on
  return Number(fields[11]) + Number(fields[12])
}

export function clockTicksPerSecond(): { hz: number; source: string } {
  const res = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })
  const hz = Number(res.stdout?.trim())
  return res.status === 0 && hz > 0 ? { hz, source: 'getconf CLK_TCK' } : { hz: 100, source: 'assumed (getconf unavailable)' }
}

/** Resident set size of a process now, in KiB (VmRSS of /proc/<pid>/status). */
export function rssKb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`)
  return Number(match[1])
}

/** SIGTERM, SIGKILL after 5 s; resolves once the process is gone. */
export async function stop(proc: Proc): Promise<void> {
  const at = started.indexOf(proc)
  if (at !== -1) started.splice(at, 1)
  if (exited(proc)) return
  const gone = new Promise((resolve) => proc.child.once('exit', resolve))
  proc.child.kill('SIGTERM')
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 5_000)
  await gone
  clearTimeout(timer)
}

/** Stops everything this bench started, newest first. */
export async function stopAll(): Promise<void> {
  for (const proc of [...started].reverse()) await stop(proc)
}
