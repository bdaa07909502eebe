import fs from 'node:fs'
import path from 'node:path'
import { CortexError, type ModelConfig, type ModelDefinition, type ScheduleWindow } from '../contract/index.js'
import { displayPath, type Problem } from '../config/issues.js'
import { toModelSpec } from '../config/normalize.js'
import { crossFieldProblems } from '../config/rules.js'
import { schemaProblems } from '../config/schema.js'
import type { ModelSpec } from '../config/types.js'

/**
 * An admin API model body → a normalized spec of origin `api`, under the config file's rules. Every problem is in the
 * message; the first one's path is the error's `param`. `others` are the models that already exist (names and aliases
 * must stay unique among them).
 */
export function apiModelSpec(body: unknown, others: readonly ModelDefinition[], env: NodeJS.ProcessEnv): ModelSpec {
  const problems = schemaProblems({ models: [body] }).map(unwrap)
  if (problems.length === 0) {
    const model = body as ModelConfig
    problems.push(...crossFieldProblems([model], env).map(unwrap), ...nameProblems(model, others))
    if (model.source !== undefined && model.engine === 'llamacpp' && !path.isAbsolute(model.source)) {
      problems.push({ path: '/source', expected: 'an absolute path of a GGUF file on the machine Cortex runs on' })
    }
  }
  if (problems.length > 0) throw invalid(problems)
  const cwd = process.cwd()
  return { ...toModelSpec(body as ModelConfig, { baseDir: cwd, cwd, env, exists: fs.existsSync }), origin: 'api' }
}

const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`

function toWindowConfig(w: ScheduleWindow): NonNullable<ModelConfig['schedule']>[number] {
  return { ...(w.days.length > 0 && { days: w.days }), from: hhmm(w.from), to: hhmm(w.to), timeZone: w.timeZone }
}

/** The inverse of normalization: a definition as a config file (or recipe) would write it. No secrets. */
export function toModelConfig(def: ModelDefinition): ModelConfig {
  return {
    name: def.name,
    ...(def.aliases.length > 0 && { aliases: def.aliases }),
    engine: def.engine,
    runtime: def.runtime,
    ...(def.source !== undefined && { source: def.source }),
    ...(def.args.length > 0 && { args: def.args }),
    ...(Object.keys(def.env).length > 0 && { env: def.env }),
    replicas: def.replicas,
    ttl: `${def.ttlMs}ms`,
    pinned: def.pinned,
    ...(def.swapGroup !== undefined && { swapGroup: def.swapGroup }),
    ...(def.schedule !== undefined && { schedule: def.schedule.map(toWindowConfig), preload: def.preload ?? false }),
    ...(def.drainTimeoutMs !== undefined && { drainTimeout: `${def.drainTimeoutMs}ms` }),
    ...(def.maxConcurrent !== undefined && { maxConcurrent: def.maxConcurrent }),
    queue: { size: def.queue.size, timeout: `${def.queue.timeoutMs}ms` },
    startTimeout: `${def.startTimeoutMs}ms`,
    gpus: def.gpus,
    ...(def.image !== undefined && { image: def.image }),
    ...(def.network !== undefined && { network: def.network }),
    ...(def.baseUrls.length > 0 && { baseUrl: def.baseUrls.length === 1 ? def.baseUrls[0]! : def.baseUrls }),
    ...(def.upstreamModel !== undefined && { upstreamModel: def.upstreamModel }),
  }
}

/** A PATCH body applied to a definition: given fields replace, `null` removes an optional one. */
export function patched(def: ModelDefinition, patch: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...toModelConfig(def), ...(def.apiKey !== undefined && { apiKey: def.apiKey }) }
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key]
    else merged[key] = value
  }
  // A new key source replaces the old one rather than conflicting with it.
  if ('apiKeyEnv' in patch && patch.apiKeyEnv !== null) delete merged.apiKey
  if ('apiKey' in patch && patch.apiKey !== null) delete merged.apiKeyEnv
  return merged
}

function nameProblems(model: ModelConfig, others: readonly ModelDefinition[]): Problem[] {
  const owners = new Map(others.flatMap((o) => [o.name, ...o.aliases].map((n) => [n, o.name] as const)))
  return [model.name, ...(model.aliases ?? [])].flatMap((name, i) => {
    const owner = owners.get(name)
    if (owner === undefined) return []
    return [
      {
        path: i === 0 ? '/name' : `/aliases/${i - 1}`,
        expected: `"${name}" is already ${owner === name ? 'the name' : 'an alias'} of model "${owner}"; names and aliases must be unique`,
      },
    ]
  })
}

const unwrap = (p: Problem): Problem => ({ path: p.path.replace(/^\/models\/0/, ''), expected: p.expected })

function invalid(problems: Problem[]): CortexError {
  const lines = problems.map((p) => `${displayPath(p.path) || 'body'}: ${p.expected}`)
  return new CortexError('invalid_request', `invalid model: ${lines.join('; ')}`, {
    param: displayPath(problems[0]!.path) || undefined,
  })
}
