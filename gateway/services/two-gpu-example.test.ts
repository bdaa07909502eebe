import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, createCore, loadConfig, type Core } from '../index.js'
import { formatIssue } from '../config/issues.js'

/**
 * The shipped two-GPU example (examples/two-gpu-workstation.yaml) dry-run on a two-H100 machine: nvidia-smi is the
 * test stand-in replaying a two-GPU capture made from the real H100 one (test/support/fixtures/nvidia-smi/README.md).
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const example = path.join(root, 'examples/two-gpu-workstation.yaml')
const standin = path.join(root, 'test/support/fixtures/nvidia-smi/standin')
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-two-gpu-'))
const saved = { PATH: process.env.PATH, replay: process.env.NVIDIA_SMI_REPLAY, apps: process.env.NVIDIA_SMI_APPS }
const MiB = 1024 ** 2
let core: Core

beforeAll(async () => {
  // The core reads GPUs through nvidia-smi on PATH, as on a real machine.
  process.env.PATH = `${standin}${path.delimiter}${saved.PATH ?? ''}`
  process.env.NVIDIA_SMI_REPLAY = 'h100x2-cortex-query/query-idle.csv'
  process.env.NVIDIA_SMI_APPS = 'h100x2-cortex-query/apps-idle.csv'
  const config = loadConfig({ flags: { config: example, dataDir: path.join(dir, 'data'), port: 0 }, env: {} })
  core = await createCore(config, { logger: pino({ level: 'silent' }), env: { PATH: process.env.PATH }, announce: () => {} })
})
afterAll(async () => {
  await core?.close()
  process.env.PATH = saved.PATH
  for (const [name, value] of [
    ['NVIDIA_SMI_REPLAY', saved.replay],
    ['NVIDIA_SMI_APPS', saved.apps],
  ] as const) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  fs.rmSync(dir, { recursive: true, force: true })
})

const idOf = (name: string) => core.models.list().find((m) => m.name === name)!.id

describe('examples/two-gpu-workstation.yaml on two H100s (dry-run)', () => {
  it('runs the 72B model tensor parallel over GPUs 0 and 1, its --tensor-parallel-size taken from the list', async () => {
    const view = await core.models.dryRun(idOf('qwen2.5-72b-instruct-awq'))
    expect(view.plan).toMatchObject({ kind: 'container', gpus: ['0', '1'] })
    const cmd = (view.plan as { cmd: string[] }).cmd
    expect(cmd.slice(cmd.indexOf('--tensor-parallel-size'), cmd.indexOf('--tensor-parallel-size') + 2)).toEqual([
      '--tensor-parallel-size',
      '2',
    ])
    // vLLM takes --gpu-memory-utilization of each card it is given: 0.92 of both H100s, nothing else is running.
    expect(view.gpus.map((g) => [g.index, Math.round(g.needBytes / MiB)])).toEqual([
      [0, Math.round(0.92 * 81559)],
      [1, Math.round(0.92 * 81559)],
    ])
    expect(view.fits).toBe(true)
  })

  it('gives each 8B model its own GPU, and both are scheduled from 06:00 to 02:00, the 72B from 02:00 to 06:00', async () => {
    const day = await Promise.all(['llama-32k', 'llama-8k'].map((n) => core.models.dryRun(idOf(n))))
    expect(day.map((v) => v.gpus.map((g) => g.index))).toEqual([[0], [1]])
    expect(day.map((v) => (v.plan as { cmd: string[] }).cmd.includes('--tensor-parallel-size'))).toEqual([false, false])
    const windows = Object.fromEntries(core.models.list().map((m) => [m.name, m.schedule?.map((w) => [w.from / 60, w.to / 60])]))
    expect(windows).toEqual({ 'qwen2.5-72b-instruct-awq': [[2, 6]], 'llama-32k': [[6, 2]], 'llama-8k': [[6, 2]] })
  })

  it('refuses a --tensor-parallel-size in args that does not match the gpus list, naming the fix', () => {
    const file = path.join(dir, 'conflict.yaml')
    fs.writeFileSync(
      file,
      fs
        .readFileSync(example, 'utf8')
        .replace("args: [--max-model-len, '32768',", "args: [--tensor-parallel-size, '4', --max-model-len, '32768',"),
    )
    let issues: string[] = []
    try {
      loadConfig({ flags: { config: file, dataDir: path.join(dir, 'other') }, env: {} })
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      issues = err.issues.map(formatIssue)
    }
    expect(issues).toEqual([
      expect.stringMatching(
        /models\[0\]\.args: --tensor-parallel-size 4 uses 4 GPU\(s\), but gpus lists 2 \(\[0, 1\]\): remove the flag \(Cortex derives it from gpus\) or list 4 GPUs$/,
      ),
    ])
  })
})
