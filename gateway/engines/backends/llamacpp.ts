import type { ModelDefinition } from '../../contract/index.js'
import { expandArgs, gpuEnv, type ProcessPlan } from './plan.js'

/**
 * llama-server bound to loopback on `port`, serving the model under its name. Aliases are not passed: `--alias`
 * takes a comma-separated list in this llama.cpp version (common/arg.cpp) but keeps it in a std::set and reports
 * the alphabetically first entry as the model in every response (tools/server/server-context.cpp, "use first alias
 * as model name"), so `--alias qwen2.5-7b,qwen` would answer `"model": "qwen"`. The gateway resolves aliases itself.
 */
export function llamacppPlan(def: ModelDefinition, port: number, binary: string): ProcessPlan {
  if (!def.source) throw new Error(`model "${def.name}": llamacpp needs a source GGUF path`)
  return {
    command: binary,
    args: [
      '-m',
      def.source,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--alias',
      def.name,
      '--metrics',
      ...expandArgs(def.args, port),
    ],
    env: { ...def.env, ...gpuEnv(def.gpus) },
  }
}
