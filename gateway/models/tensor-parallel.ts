import type { ModelDefinition } from '../contract/model.js'
import { parseVllmArgs } from './estimate-args.js'

const TP_FLAGS = new Set(['--tensor-parallel-size', '-tp'])

const hasTpFlag = (args: readonly string[]) => args.some((a) => TP_FLAGS.has(a.split('=', 1)[0]!))

/** The GPUs a model is given by index or UUID; null for `all` or `none` (their number is the machine's). */
const listed = (gpus: ModelDefinition['gpus']) => (Array.isArray(gpus) ? gpus : null)

/**
 * A vLLM model's flags as vLLM gets them: with `--tensor-parallel-size` taken from its GPU list (divided by
 * `--pipeline-parallel-size`) when the list names two or more and the flags say nothing of it.
 */
export function vllmArgs(def: Pick<ModelDefinition, 'engine' | 'gpus' | 'args'>): string[] {
  const gpus = listed(def.gpus)
  if (def.engine !== 'vllm' || gpus === null || gpus.length < 2 || hasTpFlag(def.args)) return def.args
  const { pipelineParallel } = parseVllmArgs(def.args)
  return [...def.args, '--tensor-parallel-size', String(Math.max(1, Math.floor(gpus.length / pipelineParallel)))]
}

/**
 * Why a vLLM model's `--tensor-parallel-size` cannot work with its GPU list: it asks for another number of cards than
 * the list gives (tensor × pipeline parallel). Null when it fits, or when Cortex derives it.
 */
export function tensorParallelConflict(def: Pick<ModelDefinition, 'engine' | 'gpus' | 'args'>): string | null {
  const gpus = listed(def.gpus)
  if (def.engine !== 'vllm' || gpus === null || !hasTpFlag(def.args)) return null
  let settings
  try {
    settings = parseVllmArgs(def.args)
  } catch {
    // A malformed value is the engine's to refuse, with its own message.
    return null
  }
  const cards = settings.tensorParallel * settings.pipelineParallel
  if (cards === gpus.length) return null
  return (
    `--tensor-parallel-size ${settings.tensorParallel}${settings.pipelineParallel > 1 ? ` × --pipeline-parallel-size ${settings.pipelineParallel}` : ''} ` +
    `uses ${cards} GPU(s), but gpus lists ${gpus.length} ([${gpus.join(', ')}]): remove the flag (Cortex derives it from gpus) or list ${cards} GPUs`
  )
}
