import type { ModelDefinition } from '../../contract/index.js'

/** What a native engine process is: argv and the environment added to Cortex's own. No shell. */
export interface ProcessPlan {
  command: string
  args: string[]
  env: Record<string, string>
}

/** `${PORT}` in the user's args becomes the port Cortex picked. */
export function expandArgs(args: readonly string[], port: number): string[] {
  return args.map((a) => a.replaceAll('${PORT}', String(port)))
}

/** GPU selection for a native process: `all` inherits, `none` hides every CUDA device, a list is passed through. */
export function gpuEnv(gpus: ModelDefinition['gpus']): Record<string, string> {
  if (gpus === 'all') return {}
  if (gpus === 'none') return { CUDA_VISIBLE_DEVICES: '' }
  return { CUDA_VISIBLE_DEVICES: gpus.join(',') }
}
