import type { ModelConfig } from '../contract/index.js'
import { parseDuration } from './duration.js'
import { joinPointer, type Problem } from './issues.js'
import { DEFAULTS } from './normalize.js'
import { isValidModel } from './schema.js'
import { isTimeZone } from '../engines/policies/schedule.js'
import { tensorParallelConflict } from '../models/tensor-parallel.js'

const RUNTIMES_BY_ENGINE: Record<ModelConfig['engine'], ReadonlyArray<ModelConfig['runtime']>> = {
  llamacpp: ['process', 'docker', 'remote'],
  vllm: ['process', 'docker', 'remote'],
  openai: ['docker', 'remote'],
}

const SOURCE_KIND: Partial<Record<ModelConfig['engine'], string>> = {
  llamacpp: 'the path of a GGUF file',
  vllm: 'a Hugging Face repo id or a local model directory',
}

const NAME_REASON = "it passes the model's name and aliases, so responses carry the name clients asked for"
/** Flags Cortex sets itself on llama-server / vllm serve; a second copy would fight with them. */
const MANAGED_FLAGS: Record<string, string> = {
  '--host': 'it binds engines to 127.0.0.1, behind the gateway',
  '--port': 'it picks a free port for each replica (write ${PORT} where another flag needs that port)',
  '-m': 'it passes "source" as the model',
  '--model': 'it passes "source" as the model',
  '--alias': NAME_REASON,
  '-a': NAME_REASON,
  '--served-model-name': NAME_REASON,
}

/** Node refuses a server whose headers deadline outlasts its whole-request deadline; say so in the file's terms. */
export function serverProblems(server: unknown): Problem[] {
  if (typeof server !== 'object' || server === null) return []
  const { headersTimeout, requestTimeout } = server as { headersTimeout?: unknown; requestTimeout?: unknown }
  const ms = (v: unknown, fallback: number) => (isDuration(v) ? parseDuration(v) : fallback)
  const headers = ms(headersTimeout, DEFAULTS.headersTimeoutMs)
  const request = ms(requestTimeout, DEFAULTS.requestTimeoutMs)
  if (request === 0 || headers === 0 || headers <= request) return []
  return [
    {
      path: headersTimeout === undefined ? '/server/requestTimeout' : '/server/headersTimeout',
      expected: `expected headersTimeout (${headers / 1000}s) to be at most requestTimeout (${request / 1000}s): the headers are part of the request`,
    },
  ]
}

function isDuration(v: unknown): v is string | number {
  if (typeof v === 'number') return v >= 0
  return typeof v === 'string' && /^\d+(\.\d+)?(ms|s|m|h|d)?$/.test(v)
}

/**
 * The rules a schema cannot say: unique names, engine × runtime pairs, fields a runtime needs or forbids,
 * managed flags, API keys. Names are checked on every entry that has them; the rest only on schema-valid models.
 */
export function crossFieldProblems(models: unknown, env: NodeJS.ProcessEnv): Problem[] {
  if (!Array.isArray(models)) return []
  return [
    ...uniqueNameProblems(models),
    ...models.flatMap((model, index) => (isValidModel(model) ? modelProblems(model, `/models/${index}`, env) : [])),
  ]
}

function uniqueNameProblems(models: unknown[]): Problem[] {
  const owners = new Map<string, string>()
  const problems: Problem[] = []
  models.forEach((model, index) => {
    if (typeof model !== 'object' || model === null) return
    const { name, aliases } = model as { name?: unknown; aliases?: unknown }
    const names = [
      { value: name, path: `/models/${index}/name`, what: 'name' },
      ...(Array.isArray(aliases) ? aliases : []).map((alias: unknown, j) => ({
        value: alias,
        path: `/models/${index}/aliases/${j}`,
        what: 'alias',
      })),
    ]
    for (const { value, path, what } of names) {
      if (typeof value !== 'string') continue
      const owner = owners.get(value)
      if (owner)
        problems.push({ path, expected: `${what} "${value}" is already used by ${owner}; names and aliases must be unique` })
      else owners.set(value, `models[${index}]${typeof name === 'string' ? ` (${name})` : ''}`)
    }
  })
  return problems
}

function modelProblems(model: ModelConfig, at: string, env: NodeJS.ProcessEnv): Problem[] {
  const problems: Problem[] = []
  const add = (path: string, expected: string) => problems.push({ path, expected })
  const { engine, runtime } = model
  model.schedule?.forEach((w, i) => {
    if (w.timeZone !== undefined && !isTimeZone(w.timeZone))
      add(`${at}/schedule/${i}/timeZone`, `an IANA time zone such as Europe/Berlin or America/New_York (got "${w.timeZone}")`)
  })
  if ((model.preload !== undefined || model.drainTimeout !== undefined) && model.schedule === undefined) {
    add(
      `${at}/${model.preload !== undefined ? 'preload' : 'drainTimeout'}`,
      'only with a schedule: it applies when a window opens or ends',
    )
  }
  const runtimes = RUNTIMES_BY_ENGINE[engine]
  if (!runtimes.includes(runtime)) {
    add(
      `${at}/runtime`,
      `engine ${engine} cannot run on runtime ${runtime} (${engine}×${runtime}); use one of ${runtimes.join(', ')}`,
    )
  }
  const sourceKind = SOURCE_KIND[engine]
  if (sourceKind && runtime !== 'remote' && model.source === undefined) {
    add(at, `missing required key "source": ${engine} on runtime ${runtime} needs ${sourceKind}`)
  }
  if (runtime === 'remote' && model.source !== undefined) {
    add(`${at}/source`, 'runtime remote does not use "source" (the remote endpoint serves its own model); remove it')
  }
  if (runtime === 'remote' && model.baseUrl === undefined) {
    add(at, 'missing required key "baseUrl": runtime remote needs the endpoint\'s URL, including /v1')
  }
  if (runtime !== 'remote' && model.baseUrl !== undefined) {
    add(
      `${at}/baseUrl`,
      `runtime ${runtime} does not use "baseUrl" (Cortex starts the engine itself); remove it or use runtime remote`,
    )
  }
  if (runtime !== 'docker' && model.image !== undefined && model.image !== null) {
    add(`${at}/image`, `runtime ${runtime} does not use "image"; remove it or use runtime docker`)
  }
  if (runtime === 'docker' && engine === 'openai' && (model.image === undefined || model.image === null)) {
    add(at, 'missing required key "image": engine openai on runtime docker runs the image you name (it has no default)')
  }
  if (runtime !== 'docker' && model.network !== undefined) {
    add(`${at}/network`, `runtime ${runtime} does not use "network" (it is how a container reaches its port); remove it`)
  }
  ;(model.args ?? []).forEach((arg, j) => {
    const flag = arg.split('=', 1)[0]!
    const reason = MANAGED_FLAGS[flag]
    if (reason !== undefined) add(joinPointer(at, 'args', j), `"${flag}" is managed by Cortex: ${reason}; remove it`)
  })
  const conflict = tensorParallelConflict({ engine, gpus: model.gpus ?? 'all', args: model.args ?? [] })
  if (conflict !== null) add(`${at}/args`, conflict)
  if (model.apiKey !== undefined && model.apiKeyEnv !== undefined) {
    add(`${at}/apiKeyEnv`, 'set either "apiKey" or "apiKeyEnv", not both')
  } else if (model.apiKeyEnv !== undefined && !env[model.apiKeyEnv]) {
    add(`${at}/apiKeyEnv`, `environment variable ${model.apiKeyEnv} is not set (named by apiKeyEnv)`)
  }
  return problems
}
