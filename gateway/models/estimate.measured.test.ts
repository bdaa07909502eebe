// The estimate against what a real CUDA llama-server held on an H100 (ESTIMATE.md): the fixtures are the runs.csv
// and the buffer lines of the logs that scripts/gpu/measure-vram.sh wrote, for the models of scripts/gpu/make-models.ts.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { MODELS, measuredModelHeader } from '../../scripts/gpu/make-models.js'
import { parseLlamaCppArgs } from './estimate-args.js'
import { estimateLlamaCpp } from './estimate.js'
import { parseGgufHeader } from './gguf-parse.js'

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/support/fixtures/vram')
const MiB = 1024 * 1024
const models = new Map(MODELS.map((m) => [m.name, measuredModelHeader(m)]))

interface Run {
  id: string
  model: string
  args: string[]
  /** The process's GPU memory after a 2000-token prompt (nvidia-smi), MiB. */
  afterPromptMiB: number
  /** "CUDA0 … buffer size" lines of the log, MiB (0 when llama.cpp logged none). */
  weightsMiB: number
  kvMiB: number
  computeMiB: number
}

function runs(set: string): Run[] {
  const log = readFileSync(path.join(fixtures, `${set}-buffers.txt`), 'utf8')
  const sections = new Map(log.split(/^== /m).map((s) => [s.slice(0, s.indexOf('\n')).trim(), s]))
  const mib = (section: string, re: RegExp) => Number(re.exec(section)?.[1] ?? 0)
  const lines = readFileSync(path.join(fixtures, `${set}-runs.csv`), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
  return lines.map((line) => {
    const [, id, model, args, after, status] = /^(\w+),([\w-]+),"([^"]*)",\d+,\d+,(\d+),\d+,\d+,\d+,\d+,(\w+)$/.exec(line)!
    expect(status, `${id} ran`).toBe('ok')
    const section = sections.get(id!)!
    return {
      id: id!,
      model: model!,
      args: args!.split(' ').filter(Boolean),
      afterPromptMiB: Number(after),
      weightsMiB: mib(section, /CUDA0 model buffer size =\s*([\d.]+)/),
      kvMiB: mib(section, /CUDA0 KV buffer size =\s*([\d.]+)/),
      computeMiB: mib(section, /CUDA0 compute buffer size =\s*([\d.]+)/),
    }
  })
}

function estimate(run: Run) {
  const { head, total } = models.get(run.model)!
  const e = estimateLlamaCpp(parseGgufHeader(head, false, total), parseLlamaCppArgs(run.args))
  const nLayer = MODELS.find((m) => m.name === run.model)!.layers
  return { e, fullOffload: e.context.gpuLayers === nLayer + 1 }
}

// 'h100': the runs the compute and overhead terms were fitted to; 'h100-heldout': shapes and settings measured after.
describe.each(['h100', 'h100-heldout'])('estimate vs a CUDA llama-server on an H100 (%s runs)', (set) => {
  it.each(runs(set).map((r) => [r.id, r.args.join(' ') || '(defaults)', r] as const))(
    '%s %s: weights and KV cache to the logged byte, compute and total within the error in ESTIMATE.md',
    (_, __, run) => {
      const { e, fullOffload } = estimate(run)
      // The log prints two decimals of MiB.
      expect(Math.abs(e.weightsBytes / MiB - run.weightsMiB)).toBeLessThan(0.01)
      expect(Math.abs(e.kvCacheBytes / MiB - run.kvMiB)).toBeLessThan(0.03)
      const compute = e.computeBytes / MiB - run.computeMiB
      const total = e.totalBytes / MiB - run.afterPromptMiB
      if (fullOffload) {
        expect(compute).toBeGreaterThanOrEqual(-0.1)
        expect(compute).toBeLessThanOrEqual(4)
        expect(total).toBeGreaterThanOrEqual(0)
        expect(total).toBeLessThanOrEqual(128)
      } else {
        // Host layers: the op-offload allowance (one host layer's weights) over-counts, never under-counts.
        expect(compute).toBeGreaterThanOrEqual(-1)
        expect(compute).toBeLessThanOrEqual(330)
        expect(total).toBeGreaterThanOrEqual(0)
        expect(total).toBeLessThanOrEqual(350)
      }
    },
  )
})
