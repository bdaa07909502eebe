/** Engines' metrics for the suites: the real llama-server capture, and vLLM's stand-in started as a process. */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../test/support/substrate.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** llama-server's `/metrics` on an H100 (test/support/fixtures/engine-metrics/README.md). */
export const llamaServerMetrics = (): string =>
  readFileSync(path.join(repoRoot, 'test/support/fixtures/engine-metrics/llama-server-h100.txt'), 'utf8')

export interface Standin {
  /** The engine root, as a replica's `url`. */
  url: string
  stop(): Promise<void>
}

/** `vllm-standin.mjs serve <source> --served-model-name <name>`, listening once this resolves (no loading delay). */
export async function startVllmStandin(source = 'Qwen/Qwen2.5-0.5B-Instruct', name = 'qwen'): Promise<Standin> {
  const port = await freePort()
  const script = path.join(repoRoot, 'test/support/vllm-standin.mjs')
  const child = spawn(
    process.execPath,
    [script, 'serve', source, '--served-model-name', name, '--host', '127.0.0.1', '--port', String(port)],
    { env: { ...process.env, STANDIN_LOAD_MS: '0' }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let output = ''
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString()
      if (output.includes('Application startup complete')) resolve()
    })
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    void exited.then(() => reject(new Error(`the vLLM stand-in exited before it listened:\n${output}`)))
  })
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}
