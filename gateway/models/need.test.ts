import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { modelDefinition } from '../contract/model.test-support.js'
import type { GpuSample } from '../system/nvidia-smi.js'
import { writeTinyLlama } from '../../test/support/gguf-writer.js'
import { estimateLlamaCpp } from './estimate.js'
import { parseLlamaCppArgs } from './estimate-args.js'
import { readGguf } from './gguf.js'
import { modelNeed, selectedGpus } from './need.js'

const GiB = 1024 ** 3
const gpu = (index: number, totalGiB = 80): GpuSample => ({
  index,
  uuid: `GPU-${index}`,
  name: 'NVIDIA H100 80GB HBM3',
  memoryTotalBytes: totalGiB * GiB,
  memoryUsedBytes: 0,
  memoryFreeBytes: totalGiB * GiB,
  utilizationPercent: 0,
  temperatureC: 30,
  powerDrawW: 70,
  powerLimitW: 700,
})
const two = [gpu(0), gpu(1)]
const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-need-'))
const gguf = path.join(dir, 'tiny.gguf')
const hfDir = path.join(dir, 'qwen')

beforeAll(async () => {
  await writeTinyLlama(gguf, { contextLength: 4096 })
  mkdirSync(hfDir)
  // Qwen2.5-7B-Instruct's config.json shapes.
  writeFileSync(
    path.join(hfDir, 'config.json'),
    JSON.stringify({
      architectures: ['Qwen2ForCausalLM'],
      hidden_size: 3584,
      intermediate_size: 18944,
      num_attention_heads: 28,
      num_hidden_layers: 28,
      num_key_value_heads: 4,
      vocab_size: 152064,
      max_position_embeddings: 32768,
      torch_dtype: 'bfloat16',
      tie_word_embeddings: false,
    }),
  )
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('selectedGpus', () => {
  it('maps all, indexes and UUIDs to this machine GPUs, and names the ones it lacks', () => {
    expect(selectedGpus(modelDefinition({ gpus: 'all' }), two).used.map((g) => g.index)).toEqual([0, 1])
    expect(selectedGpus(modelDefinition({ gpus: 'none' }), two).used).toEqual([])
    expect(selectedGpus(modelDefinition({ gpus: ['GPU-1'] }), two).used.map((g) => g.index)).toEqual([1])
    expect(selectedGpus(modelDefinition({ gpus: [0, 3] }), two)).toEqual({
      used: [two[0]],
      warnings: ['GPU 3 does not exist: this machine has 0 (GPU-0), 1 (GPU-1)'],
    })
  })
})

describe('modelNeed', () => {
  it('llama.cpp: the estimate of the GGUF with its flags, on the GPU it uses', async () => {
    const def = modelDefinition({ source: gguf, gpus: [1], args: ['-c', '2048', '-np', '2'] })
    const need = await modelNeed(def, two)
    const expected = estimateLlamaCpp(await readGguf(gguf), parseLlamaCppArgs(def.args), { gpuFreeBytes: [80 * GiB] })
    expect([...need.perGpu]).toEqual([[1, expected.totalBytes]])
    expect(need.warnings).toEqual([])
  })

  it('vLLM: its --gpu-memory-utilization share of each card, with warnings from a local config.json', async () => {
    const def = modelDefinition({
      engine: 'vllm',
      runtime: 'docker',
      source: hfDir,
      gpus: [0, 1],
      args: ['--tensor-parallel-size', '3', '--gpu-memory-utilization', '0.5'],
    })
    const need = await modelNeed(def, two)
    expect([...need.perGpu]).toEqual([
      [0, 40 * GiB],
      [1, 40 * GiB],
    ])
    expect(need.warnings).toEqual([
      '--tensor-parallel-size × --pipeline-parallel-size is 3, but the model is given 2 GPU(s)',
      "--tensor-parallel-size 3 does not divide the model's 28 attention heads",
    ])
  })

  it('vLLM: warns about a quantization vLLM does not know, from the flag or the config', async () => {
    const def = modelDefinition({ engine: 'vllm', runtime: 'docker', source: hfDir, gpus: [0], args: ['--quantization', 'awq9'] })
    expect((await modelNeed(def, two)).warnings).toEqual([
      expect.stringMatching(/^vLLM does not know the quantization "awq9": use one of aqlm, awq/),
    ])
    expect((await modelNeed({ ...def, args: ['--quantization', 'awq'] }, two)).warnings).toEqual([])
  })

  it('nothing for remote models, CPU-only models, machines without GPUs; a bad flag is a warning', async () => {
    expect((await modelNeed(modelDefinition({ runtime: 'remote', source: undefined }), two)).perGpu.size).toBe(0)
    expect((await modelNeed(modelDefinition({ source: gguf, gpus: 'none' }), two)).perGpu.size).toBe(0)
    expect((await modelNeed(modelDefinition({ source: gguf }), [])).perGpu.size).toBe(0)
    const bad = await modelNeed(modelDefinition({ source: gguf, args: ['-c', 'lots'] }), two)
    expect(bad.perGpu.size).toBe(0)
    expect(bad.warnings).toHaveLength(1)
    expect(bad.warnings[0]).toMatch(/-c/)
  })
})
