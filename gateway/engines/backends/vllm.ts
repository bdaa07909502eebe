import type { ModelDefinition } from '../../contract/index.js'
import { vllmArgs } from '../../models/tensor-parallel.js'
import { expandArgs, gpuEnv, type ProcessPlan } from './plan.js'

/** `vllm serve` bound to loopback on `port`; `--served-model-name` takes the name and the aliases as separate values. */
export function vllmPlan(def: ModelDefinition, port: number, binary: string): ProcessPlan {
  if (!def.source) throw new Error(`model "${def.name}": vllm needs a source (HF repo id or local directory)`)
  return {
    command: binary,
    args: [
      'serve',
      def.source,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--served-model-name',
      def.name,
      ...def.aliases,
      ...expandArgs(vllmArgs(def), port),
    ],
    env: { ...def.env, ...gpuEnv(def.gpus) },
  }
}
