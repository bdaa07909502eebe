/**
 * `npm run demo`: try Cortex without a model of your own. Builds (once) the CPU llama-server the tests
 * use, writes the tests' tiny random-weight model, and serves it as "tiny" with `cortex serve`.
 * The replies are gibberish — the weights are random — but every part of Cortex is real. The demo keeps its
 * data directory under its cache folder, apart from the one a real `cortex serve` uses.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeTinyLlama } from '../test/support/gguf-writer.js'
import { cortexCacheDir, findLlamaServer } from '../test/support/substrate.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const home = path.join(cortexCacheDir(), 'demo')
mkdirSync(home, { recursive: true })

const llamaServer = await findLlamaServer()
const model = path.join(home, 'tiny-llama.gguf')
await writeTinyLlama(model)
const config = path.join(home, 'cortex.yaml')
writeFileSync(
  config,
  [
    // The demo is for trying Cortex on this machine: local programs need no key (README, auth).
    'auth: { allowLoopbackWithoutKey: true }',
    'engines:',
    `  llamaServer: ${JSON.stringify(llamaServer)}`,
    'models:',
    '  - name: tiny',
    '    engine: llamacpp',
    '    runtime: process',
    `    source: ${JSON.stringify(model)}`,
    '    args: ["-c", "4096", "-np", "2"]',
    '    ttl: 10m',
    '',
  ].join('\n'),
)
process.stderr.write(
  `demo config: ${config}\ntry:  curl -s http://127.0.0.1:31313/v1/chat/completions -H 'content-type: application/json' ` +
    `-d '{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":16}'\n`,
)
const child = spawn(
  process.execPath,
  [
    path.join(root, 'bin/cortex.js'),
    'serve',
    '--config',
    config,
    '--data-dir',
    path.join(home, 'data'),
    ...process.argv.slice(2),
  ],
  {
    stdio: 'inherit',
  },
)
// Ctrl-C reaches the whole process group, Cortex included: forwarding it would be a second signal, which makes
// Cortex exit without waiting. A SIGTERM sent to the demo alone is passed on.
process.on('SIGINT', () => {})
process.on('SIGTERM', () => child.kill('SIGTERM'))
child.on('exit', (code) => process.exit(code ?? 1))
