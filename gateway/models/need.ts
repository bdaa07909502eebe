import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { GpuSample as ContractGpuSample, ModelDefinition } from '../contract/index.js'
import { estimateLlamaCpp, type LlamaCppEstimate } from './estimate.js'
import { EngineArgsError, parseLlamaCppArgs, parseVllmArgs } from './estimate-args.js'
import { estimateVllm, type HfConfig, type VllmEstimate } from './estimate-vllm.js'
import { readGguf } from './gguf.js'
import { vllmArgs } from './tensor-parallel.js'

/** One GPU's reading; which processes hold it does not matter here. */
type GpuSample = Omit<ContractGpuSample, 'processes'>

/** What a model will take on this machine's GPUs, as far as it can be known before starting it. */
export interface ModelNeed {
  /** Bytes per GPU index; empty when the model uses no local GPU. */
  perGpu: Map<number, number>
  estimate: { llamacpp: LlamaCppEstimate } | { vllm: VllmEstimate } | null
  /** Problems a person should fix before starting (a GPU that does not exist, a tensor-parallel size that cannot work). */
  warnings: string[]
}

const NONE = (warnings: string[] = []): ModelNeed => ({ perGpu: new Map(), estimate: null, warnings })

/** The GPUs a definition asks for, by index; names the ones this machine does not have. */
export function selectedGpus(def: ModelDefinition, gpus: readonly GpuSample[]): { used: GpuSample[]; warnings: string[] } {
  if (def.gpus === 'none' || gpus.length === 0) return { used: [], warnings: [] }
  if (def.gpus === 'all') return { used: [...gpus], warnings: [] }
  const warnings: string[] = []
  const used = def.gpus.flatMap((want) => {
    const gpu = gpus.find((g) => (typeof want === 'number' ? g.index === want : g.uuid === want))
    if (!gpu)
      warnings.push(`GPU ${want} does not exist: this machine has ${gpus.map((g) => `${g.index} (${g.uuid})`).join(', ')}`)
    return gpu ? [gpu] : []
  })
  return { used, warnings }
}

/**
 * The estimate behind placement and dry-runs: llama.cpp from the GGUF's header and the flags; vLLM takes its
 * `--gpu-memory-utilization` share of each card it uses (checked against a local `config.json` when there is one).
 * Remote and openai models take nothing here.
 */
export async function modelNeed(def: ModelDefinition, gpus: readonly GpuSample[]): Promise<ModelNeed> {
  if (def.runtime === 'remote' || def.engine === 'openai') return NONE()
  const { used, warnings } = selectedGpus(def, gpus)
  if (used.length === 0) return NONE(warnings)
  try {
    return def.engine === 'llamacpp' ? await llamaNeed(def, used, warnings) : await vllmNeed(def, used, warnings)
  } catch (err) {
    if (!(err instanceof EngineArgsError)) throw err
    return NONE([...warnings, err.message])
  }
}

async function llamaNeed(def: ModelDefinition, used: GpuSample[], warnings: string[]): Promise<ModelNeed> {
  const settings = parseLlamaCppArgs(def.args)
  const gguf = await readGguf(def.source!)
  const estimate = estimateLlamaCpp(gguf, settings, { gpuFreeBytes: used.map((g) => g.memoryFreeBytes ?? 0) })
  const shares = estimate.perGpu?.map((share) => share.totalBytes) ?? [estimate.totalBytes]
  return { perGpu: new Map(used.map((g, i) => [g.index, shares[i] ?? 0])), estimate: { llamacpp: estimate }, warnings }
}

async function vllmNeed(def: ModelDefinition, used: GpuSample[], warnings: string[]): Promise<ModelNeed> {
  const settings = parseVllmArgs(vllmArgs(def))
  const cards = settings.tensorParallel * settings.pipelineParallel
  if (cards > used.length) {
    warnings.push(`--tensor-parallel-size × --pipeline-parallel-size is ${cards}, but the model is given ${used.length} GPU(s)`)
  }
  const mine = used.slice(0, cards)
  const config = await localConfig(def.source!)
  const quantization = settings.quantization ?? quantMethod(config)
  if (quantization !== null && !VLLM_QUANTIZATIONS.has(quantization)) {
    warnings.push(`vLLM does not know the quantization "${quantization}": use one of ${[...VLLM_QUANTIZATIONS].join(', ')}`)
  }
  let estimate: VllmEstimate | null = null
  if (config) {
    estimate = estimateVllm(config, settings, { cardBytes: mine[0]?.memoryTotalBytes ?? undefined })
    const heads = config['num_attention_heads']
    if (typeof heads === 'number' && heads % settings.tensorParallel !== 0) {
      warnings.push(`--tensor-parallel-size ${settings.tensorParallel} does not divide the model's ${heads} attention heads`)
    }
    if (estimate.fits === false) {
      warnings.push(
        `the model needs about ${gib(estimate.needBytes)} GiB per GPU, more than --gpu-memory-utilization ` +
          `${settings.gpuMemoryUtilization} of the card gives it (${gib(estimate.reservationBytes ?? 0)} GiB)`,
      )
    }
  }
  const perGpu = new Map(mine.map((g) => [g.index, settings.gpuMemoryUtilization * (g.memoryTotalBytes ?? 0)]))
  return { perGpu, estimate: estimate && { vllm: estimate }, warnings }
}

/** The `--quantization` methods of vLLM 0.11 (vllm/model_executor/layers/quantization/__init__.py). */
const VLLM_QUANTIZATIONS = new Set([
  'aqlm',
  'awq',
  'deepspeedfp',
  'tpu_int8',
  'fp8',
  'ptpc_fp8',
  'fbgemm_fp8',
  'modelopt',
  'modelopt_fp4',
  'marlin',
  'bitblas',
  'gguf',
  'gptq_marlin_24',
  'gptq_marlin',
  'gptq_bitblas',
  'awq_marlin',
  'gptq',
  'compressed-tensors',
  'bitsandbytes',
  'qqq',
  'hqq',
  'experts_int8',
  'neuron_quant',
  'ipex',
  'quark',
  'moe_wna16',
  'torchao',
  'auto-round',
  'rtn',
  'inc',
  'mxfp4',
])

function quantMethod(config: HfConfig | null): string | null {
  const q = config?.['quantization_config']
  const method = typeof q === 'object' && q !== null ? (q as HfConfig)['quant_method'] : undefined
  return typeof method === 'string' ? method : null
}

/** A local model directory's config.json; null for a Hugging Face repo id (not downloaded here) or a missing file. */
async function localConfig(source: string): Promise<HfConfig | null> {
  if (!path.isAbsolute(source)) return null
  try {
    return JSON.parse(await readFile(path.join(source, 'config.json'), 'utf8')) as HfConfig
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

export const gib = (bytes: number) => (bytes / 1024 ** 3).toFixed(1)
