import type { ModelDefinition } from '../contract/model.js'
import { EngineArgsError, parseLlamaCppArgs, parseVllmArgs } from '../models/estimate-args.js'

/**
 * The context a model's engine is started with, from its flags: llama-server's `-c` / `--ctx-size`, vLLM's
 * `--max-model-len`. Null when the flags leave it to the model (its trained context, unknown until it runs) or the
 * engine is not one Cortex starts with flags it reads.
 */
export function configuredContext(def: Pick<ModelDefinition, 'engine' | 'args'>): number | null {
  try {
    if (def.engine === 'llamacpp') return parseLlamaCppArgs(def.args).ctxSize
    if (def.engine === 'vllm') return parseVllmArgs(def.args).maxModelLen
  } catch (err) {
    // A flag the parser refuses is the engine's to refuse at start; routing just does not know the context.
    if (err instanceof EngineArgsError) return null
    throw err
  }
  return null
}
