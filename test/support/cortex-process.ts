import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export interface CortexProcess {
  child: ChildProcess
  /** http://127.0.0.1:PORT once listening. */
  url: string
  stdout: string[]
  stderr: string[]
  /** Sends the signal and resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/**
 * `cortex <args>` from source, in its own process group as in a terminal (so a test can send a Ctrl-C to the
 * group without hitting Vitest).
 */
function spawnCortex(args: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test/support/cortex-cli.ts'), ...args], {
    cwd: root,
    ...(env ? { env } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
}

/** Spawns `cortex <args>` (with `env` instead of this process's environment, when given); resolves once it prints
 *  where it listens. */
export function startCortex(args: string[], env?: NodeJS.ProcessEnv): Promise<CortexProcess> {
  const child = spawnCortex(args, env)
  const stdout: string[] = []
  const stderr: string[] = []
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  collectLines(child.stdout!, stdout)
  return new Promise((resolve, reject) => {
    collectLines(child.stderr!, stderr, (line) => {
      const match = /listening on (http:\/\/\S+)/.exec(line)
      if (match) {
        resolve({
          child,
          url: match[1]!,
          stdout,
          stderr,
          stop: (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal)
            return exited
          },
        })
      }
    })
    void exited.then((code) => reject(new Error(`cortex exited with ${code} before listening:\n${stderr.join('\n')}`)))
  })
}

/** Runs `cortex <args>` to completion. */
export async function runCortex(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnCortex(args)
  const stdout: string[] = []
  const stderr: string[] = []
  collectLines(child.stdout!, stdout)
  collectLines(child.stderr!, stderr)
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)))
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') }
}

function collectLines(stream: NodeJS.ReadableStream, into: string[], onLine?: (line: string) => void): void {
  let tail = ''
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    const parts = (tail + chunk).split('\n')
    tail = parts.pop()!
    for (const line of parts) {
      into.push(line)
      onLine?.(line)
    }
  })
}

/** PIDs of live processes whose command line contains every needle (e.g. a model path unique to one test). */
export function processesMatching(...needles: string[]): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8')
      const state = /State:\s+(\w)/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1]
      if (needles.every((n) => cmdline.includes(n)) && state !== 'Z') pids.push(Number(entry))
    } catch (err) {
      // A process can exit between readdir and read.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
    }
  }
  return pids
}

/** The `--port` of each llama-server whose command line contains every needle. */
export function enginePorts(...needles: string[]): number[] {
  return processesMatching(...needles).map((pid) => {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    return Number(args[args.indexOf('--port') + 1])
  })
}

/** Polls `check` until it returns a value other than undefined; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
