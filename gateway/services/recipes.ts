import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Logger } from 'pino'
import { Compile } from 'typebox/compile'
import { stringify } from 'yaml'
import {
  CortexError,
  quoted,
  Recipe,
  type ModelConfig,
  type ModelCreateBody,
  type ModelPatchBody,
  type ModelView,
  type RecipeView,
} from '../contract/index.js'
import { displayPath, type Problem } from '../config/issues.js'
import { DEFAULTS } from '../config/normalize.js'
import { crossFieldProblems } from '../config/rules.js'
import { problemsAgainst } from '../config/schema.js'
import { parseYaml } from '../config/yaml.js'
import { toModelConfig } from '../models/definitions.js'

/**
 * Model recipes: shipped with Cortex (read-only) and imported ones, saved in `<data-dir>/recipes/`. Errors are
 * CortexError `invalid_request` with `param` at the field to fix.
 */
export interface RecipeService {
  /** Shipped recipes first, then imported ones; each group by id. */
  list(): RecipeView[]
  /** The model entry a recipe gives with `overrides` applied (see `fromRecipe`). An unknown id is param `recipe`; a
   *  source that neither the recipe nor the overrides give, where the engine needs one, is `overrides.source`. */
  modelBody(recipe: string, overrides: ModelPatchBody): ModelCreateBody
  /** A model as recipe YAML: no API key, no secret-looking env values, defaults left out. */
  export(model: ModelView): string
  /** Checks recipe YAML and saves it under its `id` (an imported recipe with that id is replaced; a shipped one never
   *  is). A problem's param is its path in the YAML and the message names the line. */
  import(yaml: string): Promise<RecipeView>
}

export interface RecipeServiceOptions {
  /** `<data-dir>/recipes`: where imported recipes are saved (created by the first import). */
  importDir: string
  /** The shipped recipes; default: the package's `recipes/` folder. */
  shippedDir?: string
  logger: Logger
}

/**
 * Shipped recipes are read once and must all be valid: a broken one is a packaging bug, so it stops start-up. An
 * imported file that no longer passes (edited by hand, or written by a newer Cortex) is skipped with a warning.
 */
export function createRecipeService(o: RecipeServiceOptions): RecipeService {
  const shipped = new Map<string, RecipeView>()
  for (const { file, text } of recipeFiles(o.shippedDir ?? shippedRecipesDir())) {
    try {
      shipped.set(file.id, { ...recipeFile(file, text), origin: 'shipped' })
    } catch (err) {
      throw new Error(`shipped recipe ${file.path} is broken: ${(err as Error).message}`, { cause: err })
    }
  }
  const imported = new Map<string, RecipeView>()
  for (const { file, text } of recipeFiles(o.importDir)) {
    try {
      imported.set(file.id, { ...recipeFile(file, text), origin: 'imported' })
    } catch (err) {
      o.logger.warn({ file: file.path, problem: (err as Error).message }, 'imported recipe skipped')
    }
  }
  const byId = (a: RecipeView, b: RecipeView) => a.id.localeCompare(b.id)

  return {
    list: () => [...[...shipped.values()].sort(byId), ...[...imported.values()].sort(byId)],
    modelBody(id, overrides) {
      const recipe = shipped.get(id) ?? imported.get(id)
      if (recipe === undefined) {
        const known = [...shipped.keys(), ...imported.keys()].join(', ')
        throw new CortexError('invalid_request', `no recipe has id ${quoted(id)} (GET /admin/api/recipes lists them: ${known})`, {
          param: 'recipe',
        })
      }
      return fromRecipe(recipe, overrides)
    },
    export: (model) => `# Cortex model recipe, exported from model "${model.name}"\n${stringify(toRecipe(model))}`,
    async import(yaml) {
      const recipe = parseRecipe(yaml)
      if (shipped.has(recipe.id)) {
        throw new CortexError('invalid_request', `id "${recipe.id}" belongs to a recipe shipped with Cortex; choose another id`, {
          param: 'id',
        })
      }
      // The text as given, comments included; written aside and renamed so a reader never sees half a file.
      await fs.promises.mkdir(o.importDir, { recursive: true })
      const target = path.join(o.importDir, `${recipe.id}.yaml`)
      const temporary = `${target}.${randomUUID()}.tmp`
      await fs.promises.writeFile(temporary, yaml)
      await fs.promises.rename(temporary, target)
      const view: RecipeView = { ...recipe, origin: 'imported' }
      imported.set(recipe.id, view)
      return view
    },
  }
}

/** The package's `recipes/` folder: two levels above this module in the sources, three once built into `dist/`. */
export function shippedRecipesDir(): string {
  for (const relative of ['../../recipes/', '../../../recipes/']) {
    const dir = fileURLToPath(new URL(relative, import.meta.url))
    if (fs.existsSync(path.join(dir, 'schema.json'))) return dir
  }
  throw new Error(`Cortex's shipped recipes are missing (no recipes/schema.json above ${fileURLToPath(import.meta.url)})`)
}

/**
 * A recipe's model entry with `overrides` applied: a given field replaces the recipe's and `null` removes it; mappings
 * (`env`, `queue`) merge key by key, so one variable can be added without restating the others. Lists such as `args`
 * are replaced, not appended: a recipe's flag could not be dropped otherwise, and a flag given twice is ambiguous.
 */
export function fromRecipe(recipe: Recipe, overrides: ModelPatchBody = {}): ModelCreateBody {
  const body = merged(structuredClone(recipe.model), overrides) as ModelCreateBody
  // One key source: an apiKey given here replaces the recipe's apiKeyEnv rather than conflicting with it.
  if (overrides.apiKey != null && overrides.apiKeyEnv === undefined) delete body.apiKeyEnv
  if (needsSource(body)) {
    const what = recipe.sourceHint ?? SOURCE_KIND[body.engine]
    throw new CortexError(
      'invalid_request',
      `recipe "${recipe.id}" has no source for its ${body.engine} model: set overrides.source to ${what}`,
      { param: 'overrides.source' },
    )
  }
  return body
}

/** A model as a recipe: its config-file entry without secrets and without the fields that hold their defaults. */
export function toRecipe(model: ModelView): Recipe {
  const entry: Record<string, unknown> = { ...toModelConfig(model) }
  const secrets = Object.keys(model.env).filter((key) => SECRET_NAME.test(key))
  const env = Object.fromEntries(Object.entries(model.env).filter(([key]) => !secrets.includes(key)))
  if (Object.keys(env).length > 0) entry.env = env
  else delete entry.env
  const d = DEFAULTS.model
  if (model.replicas === d.replicas) delete entry.replicas
  if (model.ttlMs === d.ttlMs) delete entry.ttl
  else entry.ttl = duration(model.ttlMs)
  if (!model.pinned) delete entry.pinned
  const queue = {
    ...(model.queue.size !== d.queueSize && { size: model.queue.size }),
    ...(model.queue.timeoutMs !== d.queueTimeoutMs && { timeout: duration(model.queue.timeoutMs) }),
  }
  if (Object.keys(queue).length > 0) entry.queue = queue
  else delete entry.queue
  if (model.startTimeoutMs === d.startTimeoutMs) delete entry.startTimeout
  else entry.startTimeout = duration(model.startTimeoutMs)
  if (model.gpus === 'all') delete entry.gpus

  const notes = [
    `Exported from the Cortex model "${model.name}" (${model.engine} on ${model.runtime}).`,
    model.hasApiKey && 'Its API key is not exported: give overrides.apiKey or overrides.apiKeyEnv when creating a model.',
    secrets.length > 0 && `Secret-looking env values are not exported (${secrets.join(', ')}): give them in overrides.env.`,
  ]
  return {
    id: model.name
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .slice(0, 100),
    title: model.name,
    description: notes.filter(Boolean).join(' '),
    ...(Array.isArray(model.gpus) && model.gpus.length > 0 && { requires: { gpus: model.gpus.length } }),
    model: entry as Recipe['model'],
  }
}

/** Recipe YAML → a checked recipe. Every problem is in the message with its line; the first one's path is `param`. */
export function parseRecipe(text: string): Recipe {
  const parsed = parseYaml(text)
  if (parsed.syntaxErrors.length > 0) {
    const lines = parsed.syntaxErrors.map((e) => `line ${e.line}: ${e.message}`)
    throw new CortexError('invalid_request', `recipe is not valid YAML: ${lines.join('; ')}`)
  }
  const problems = recipeProblems(parsed.value)
  if (problems.length > 0) {
    const lines = problems.map((p) => {
      const line = parsed.lineOf(p.path)
      return `${line === null ? '' : `line ${line} `}${displayPath(p.path) || 'recipe'}: ${p.expected}`
    })
    throw new CortexError('invalid_request', `invalid recipe: ${lines.join('; ')}`, {
      param: displayPath(problems[0]!.path) || undefined,
    })
  }
  return parsed.value as Recipe
}

interface RecipeFile {
  /** The file's stem, which its `id` must equal. */
  id: string
  path: string
}

function recipeFiles(dir: string): Array<{ file: RecipeFile; text: string }> {
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  return names
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => {
      const file = { id: name.replace(/\.ya?ml$/, ''), path: path.join(dir, name) }
      return { file, text: fs.readFileSync(file.path, 'utf8') }
    })
}

function recipeFile(file: RecipeFile, text: string): Recipe {
  const recipe = parseRecipe(text)
  if (recipe.id !== file.id) {
    throw new CortexError(
      'invalid_request',
      `id ${quoted(recipe.id)} must be the file's name without .yaml (${quoted(file.id)})`,
      {
        param: 'id',
      },
    )
  }
  return recipe
}

const SOURCE_KIND: Partial<Record<ModelConfig['engine'], string>> = {
  llamacpp: 'the absolute path of a GGUF file on the machine Cortex runs on',
  vllm: 'a Hugging Face repo id or the absolute path of a model directory',
}

/** Names of env variables whose values are not to leave the machine in an exported recipe. */
const SECRET_NAME = /TOKEN|KEY|SECRET|PASSWORD|CREDENTIAL/i

/** The config file's rule (config/rules.ts): llama.cpp and vLLM load a source unless they run elsewhere (remote). */
function needsSource(model: Pick<ModelConfig, 'engine' | 'runtime' | 'source'>): boolean {
  return model.engine !== 'openai' && model.runtime !== 'remote' && model.source === undefined
}

function merged(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base }
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key]
    if (value === null) delete out[key]
    else if (isMapping(value) && isMapping(current)) out[key] = merged(current, value)
    else out[key] = value
  }
  return out
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

const UNITS: Array<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
]

/** Milliseconds in the largest unit that keeps them whole: 1800000 → `30m`. */
function duration(ms: number): string {
  const [unit, size] = UNITS.find(([, size]) => ms >= size && ms % size === 0) ?? ['ms', 1]
  return `${ms / size}${unit}`
}

const recipeValidator = Compile(Recipe)

/** Schema problems, then the config file's cross-field rules on the model entry (engine × runtime, managed flags…). */
function recipeProblems(value: unknown): Problem[] {
  if (!recipeValidator.Check(value)) return schemaProblems(value)
  const { apiKeyEnv: _, ...model } = (value as Recipe).model
  // The source may be left to overrides.source, and apiKeyEnv names a variable of the machine where the model is
  // created: both are checked then, not here.
  const checkable = needsSource(model) ? { ...model, source: '/given/in/overrides.source' } : model
  return crossFieldProblems([checkable], {}).map((p) => ({
    path: p.path.replace(/^\/models\/0/, '/model'),
    expected: p.expected,
  }))
}

function schemaProblems(value: unknown): Problem[] {
  return problemsAgainst(Recipe, recipeValidator, value, { noun: 'key', requiredAt: 'key', object: 'a mapping' })
}
