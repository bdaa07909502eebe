import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { homedir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** `${XDG_CACHE_HOME:-~/.cache}/cortex`: where the llama-server build and the test models are kept. */
export function cortexCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'cortex')
}

/**
 * The llama-server binary: `CORTEX_LLAMA_SERVER`, else the one scripts/build-llama-server.sh prints on its last
 * stdout line (it builds once per machine, ~7 minutes on 2 cores, and answers at once from its cache after).
 */
export async function findLlamaServer(): Promise<string> {
  const fromEnv = process.env.CORTEX_LLAMA_SERVER
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`CORTEX_LLAMA_SERVER=${fromEnv} is not an executable file: fix or unset it`)
    return path.resolve(fromEnv)
  }
  const script = path.join(repoRoot, 'scripts/build-llama-server.sh')
  const { code, stdout, stderr } = await run('bash', [script])
  const bin = stdout.trim().split('\n').at(-1) ?? ''
  if (code !== 0 || !isExecutable(bin)) {
    throw new Error(
      `scripts/build-llama-server.sh failed (exit ${code}); run .ci/run, which installs what the build needs ` +
        `(cmake, g++, git), or install them (apt-get install -y cmake g++ git) and run the script by hand, ` +
        `or set CORTEX_LLAMA_SERVER to a llama-server binary. Its last lines:\n${stderr.trim().split('\n').slice(-15).join('\n')}`,
    )
  }
  return bin
}

/**
 * The llama.cpp source tree that built `llamaServer` (its models/ggml-vocab-*.gguf are real GGUF files):
 * `CORTEX_LLAMA_SRC`, else `<dir>/src` when the binary is the build script's `<dir>/build/bin/llama-server`.
 */
export function llamaSourceDir(llamaServer: string): string {
  const fromEnv = process.env.CORTEX_LLAMA_SRC
  if (fromEnv) {
    if (!existsSync(path.join(fromEnv, 'models')))
      throw new Error(`CORTEX_LLAMA_SRC=${fromEnv} has no models/ folder: not a llama.cpp source tree`)
    return path.resolve(fromEnv)
  }
  const buildDir = path.resolve(llamaServer, '../../..')
  const src = path.join(buildDir, 'src')
  const cached = path.dirname(buildDir) === cortexCacheDir() && llamaServer.endsWith(path.join('build', 'bin', 'llama-server'))
  if (!cached || !existsSync(path.join(src, 'models'))) {
    throw new Error(
      `no llama.cpp source next to ${llamaServer}: set CORTEX_LLAMA_SRC to the llama.cpp source it was built from ` +
        `(the tests read its models/ggml-vocab-*.gguf), or unset CORTEX_LLAMA_SERVER to use the cached build`,
    )
  }
  return src
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export interface LlamaServer {
  url: string
  process: ChildProcess
  /** Everything it wrote so far, stdout and stderr. */
  log(): string
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
  stop(): Promise<void>
}

/** Starts `llama-server -m model --host 127.0.0.1 --port <free> ...args` and waits until /health answers 200. */
export async function startLlamaServer(bin: string, model: string, args: string[] = []): Promise<LlamaServer> {
  const port = await freePort()
  const child = spawn(bin, ['-m', model, '--host', '127.0.0.1', '--port', String(port), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output += d.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const server: LlamaServer = {
    url: `http://127.0.0.1:${port}`,
    process: child,
    log: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
      }
    },
  }
  try {
    await waitForHealth(server, exited, 60_000)
  } catch (err) {
    await server.stop()
    throw err
  }
  return server
}

async function waitForHealth(server: LlamaServer, exited: Promise<void>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let gone = false
  void exited.then(() => (gone = true))
  for (;;) {
    if (gone) throw new Error(`llama-server exited before it was ready; its log:\n${server.log().slice(-3000)}`)
    const status = await fetch(`${server.url}/health`).then(
      (res) => res.status,
      () => 0,
    )
    if (status === 200) return
    if (Date.now() > deadline)
      throw new Error(`llama-server not healthy after ${timeoutMs} ms; its log:\n${server.log().slice(-3000)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    // Progress lines of a first build (minutes) go straight through so the wait is visible.
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
      process.stderr.write(d)
    })
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}
