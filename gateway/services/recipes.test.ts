import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { format, resolveConfig } from 'prettier'
import { Compile } from 'typebox/compile'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CortexError, Recipe, type ModelDefinition, type ModelView } from '../contract/index.js'
import { modelDefinition } from '../contract/model.test-support.js'
import { rejection } from '../../test/support/rejection.js'
import { memoryLogger } from '../http/fakes.test-support.js'
import { apiModelSpec } from '../models/definitions.js'
import { createRecipeService, fromRecipe, parseRecipe, shippedRecipesDir, toRecipe } from './recipes.js'
import { vllmArgs } from '../models/tensor-parallel.js'

const logger = pino({ level: 'silent' })
const shippedDir = shippedRecipesDir()
const shippedFiles = fs.readdirSync(shippedDir).filter((f) => f.endsWith('.yaml'))
const shipped = shippedFiles.map((file) => parseRecipe(fs.readFileSync(path.join(shippedDir, file), 'utf8')))
const recipe = (id: string) => shipped.find((r) => r.id === id)!

function thrown(fn: () => unknown): CortexError {
  try {
    fn()
  } catch (err) {
    if (err instanceof CortexError) return err
    throw err
  }
  throw new Error('expected a CortexError')
}

function view(def: ModelDefinition): ModelView {
  const { apiKey, ...rest } = def
  return { ...rest, hasApiKey: apiKey !== undefined, status: {} as ModelView['status'] }
}

describe('shipped recipes', () => {
  it.each(shippedFiles)(
    '%s: starts with the schema comment, matches the schema and gives a model the config rules accept',
    (file) => {
      const text = fs.readFileSync(path.join(shippedDir, file), 'utf8')
      expect(text.startsWith('# yaml-language-server: $schema=./schema.json\n')).toBe(true)
      const parsed = parseRecipe(text)
      expect(Compile(Recipe).Check(parsed)).toBe(true)
      expect(parsed.id).toBe(file.replace(/\.yaml$/, ''))
      // A recipe without a source is completed by overrides.source at creation; vLLM ones name their HF repo.
      const overrides = parsed.model.source === undefined ? { source: `/models/${parsed.id}.gguf` } : {}
      const spec = apiModelSpec(fromRecipe(parsed, overrides), [], {})
      expect(spec).toMatchObject({ name: parsed.model.name, engine: parsed.model.engine, origin: 'api' })
    },
  )

  it('cover llama.cpp chat and embeddings, and vLLM chat, tensor-parallel and embeddings (vLLM in Docker)', () => {
    const has = (id: string, flag: string) => recipe(id).model.args?.includes(flag)
    expect(recipe('llamacpp-qwen2.5-7b-instruct').model).toMatchObject({ engine: 'llamacpp', runtime: 'process' })
    expect(has('llamacpp-nomic-embed-text-v1.5', '--embeddings')).toBe(true)
    expect(has('llamacpp-nomic-embed-text-v1.5', '--pooling')).toBe(true)
    expect(has('vllm-bge-m3', '--runner')).toBe(true)
    // The tensor-parallel size comes from the GPU list (models/tensor-parallel.ts), so the recipe gives none.
    const tp = recipe('vllm-qwen2.5-72b-instruct-awq-tp2')
    expect(tp.model.args).not.toContain('--tensor-parallel-size')
    const size = Number(vllmArgs({ engine: 'vllm', gpus: tp.model.gpus!, args: tp.model.args! }).at(-1))
    expect(size).toBe(2)
    expect(tp.requires?.gpus).toBe(size)
    for (const r of shipped.filter((r) => r.model.engine === 'vllm')) expect(r.model.runtime).toBe('docker')
    expect(shipped.filter((r) => r.model.engine === 'vllm').map((r) => r.id)).toEqual(
      expect.arrayContaining(['vllm-qwen2.5-7b-instruct', 'vllm-qwen2.5-72b-instruct-awq-tp2', 'vllm-bge-m3']),
    )
  })

  it('recipes/schema.json is the Recipe schema (regenerate: npx vitest run --project unit gateway/models/recipes.test.ts -u)', async () => {
    const file = path.join(shippedDir, 'schema.json')
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: 'Cortex model recipe',
      ...(JSON.parse(JSON.stringify(Recipe)) as Record<string, unknown>),
    }
    const text = await format(JSON.stringify(schema), { ...(await resolveConfig(file)), filepath: file })
    await expect(text).toMatchFileSnapshot(file)
  })
})

describe('fromRecipe', () => {
  const vllm = recipe('vllm-qwen2.5-7b-instruct')

  it('replaces fields and lists, merges mappings key by key, and removes what is null', () => {
    const base = { ...vllm, model: { ...vllm.model, env: { A: '1' }, queue: { size: 8, timeout: '30s' } } }
    const body = fromRecipe(base, {
      name: 'mine',
      args: ['--max-model-len', '8192'],
      env: { B: '2' },
      queue: { size: 2 },
      gpus: null,
    })
    expect(body).toEqual({
      ...vllm.model,
      name: 'mine',
      args: ['--max-model-len', '8192'],
      env: { A: '1', B: '2' },
      queue: { size: 2, timeout: '30s' },
      gpus: undefined,
    })
    expect('gpus' in body).toBe(false)
    expect(vllm.model.name).toBe('qwen2.5-7b-instruct')
  })

  it("asks for overrides.source, with the recipe's hint, when a llama.cpp recipe has none", () => {
    const err = thrown(() => fromRecipe(recipe('llamacpp-qwen2.5-7b-instruct')))
    expect(err.code).toBe('invalid_request')
    expect(err.details?.param).toBe('overrides.source')
    expect(err.message).toContain('set overrides.source to the absolute path of Qwen2.5-7B-Instruct-Q4_K_M.gguf')
    expect(fromRecipe(recipe('llamacpp-qwen2.5-7b-instruct'), { source: '/m/q.gguf' }).source).toBe('/m/q.gguf')
  })

  it("lets an apiKey override replace the recipe's apiKeyEnv", () => {
    const remote = parseRecipe(
      'id: team\ntitle: t\ndescription: d\nmodel: { name: team, engine: openai, runtime: remote, baseUrl: "http://gpu:8000/v1", apiKeyEnv: TEAM_KEY }',
    )
    expect(fromRecipe(remote, { apiKey: 'sk-1' })).toEqual({ ...remote.model, apiKeyEnv: undefined, apiKey: 'sk-1' })
    expect(fromRecipe(remote)).toEqual(remote.model)
  })
})

describe('toRecipe', () => {
  it('writes the entry without defaults, secrets or the API key, durations in their largest whole unit', () => {
    const model = view(
      modelDefinition({
        name: 'Team/Qwen:7b',
        engine: 'vllm',
        runtime: 'docker',
        source: 'Qwen/Qwen2.5-7B-Instruct',
        env: { HF_TOKEN: 'hf_secret', VLLM_LOGGING_LEVEL: 'INFO' },
        ttlMs: 1_800_000,
        queue: { size: 32, timeoutMs: 90_000 },
        startTimeoutMs: 300_000,
        gpus: [0, 1],
        apiKey: 'sk-never',
      }),
    )
    const out = toRecipe(model)
    expect(out).toEqual({
      id: 'team-qwen-7b',
      title: 'Team/Qwen:7b',
      description: expect.stringContaining('Secret-looking env values are not exported (HF_TOKEN)'),
      requires: { gpus: 2 },
      model: {
        name: 'Team/Qwen:7b',
        engine: 'vllm',
        runtime: 'docker',
        source: 'Qwen/Qwen2.5-7B-Instruct',
        env: { VLLM_LOGGING_LEVEL: 'INFO' },
        ttl: '30m',
        queue: { timeout: '90s' },
        gpus: [0, 1],
      },
    })
    expect(out.description).toContain('Its API key is not exported')
    expect(JSON.stringify(out)).not.toMatch(/hf_secret|sk-never/)
  })
})

describe('createRecipeService', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-recipes-'))
  })
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))
  const service = () => createRecipeService({ importDir: path.join(dir, 'recipes'), logger })

  it('lists every shipped recipe, read-only, sorted by id', () => {
    const list = service().list()
    expect(list.map((r) => r.id)).toEqual(shipped.map((r) => r.id).sort())
    expect(new Set(list.map((r) => r.origin))).toEqual(new Set(['shipped']))
  })

  it('round-trips a model: export, import, create from it with the same definition', async () => {
    const recipes = service()
    const def = modelDefinition({ origin: 'api', args: ['-c', '4096'], ttlMs: 600_000, pinned: true })
    const model = view(def)
    const yaml = recipes.export(model)
    expect(yaml).toMatch(/^# Cortex model recipe, exported from model "tiny"\n/)
    const imported = await recipes.import(yaml)
    expect(imported).toMatchObject({ id: 'tiny', origin: 'imported' })
    const body = recipes.modelBody('tiny', {})
    const { id: _id, ...spec } = def
    expect(apiModelSpec(body, [], {})).toEqual(spec)
    // Saved in the data directory: a new service (the next start) still has it, after the shipped ones.
    expect(fs.readFileSync(path.join(dir, 'recipes', 'tiny.yaml'), 'utf8')).toBe(yaml)
    expect(service().list().at(-1)).toMatchObject({ id: 'tiny', origin: 'imported' })
  })

  it('replaces an imported recipe of the same id, and refuses the id of a shipped one', async () => {
    const recipes = service()
    const yaml = (title: string, id = 'mine') =>
      `id: ${id}\ntitle: ${title}\ndescription: d\nmodel: { name: mine, engine: vllm, runtime: docker, source: org/m }\n`
    await recipes.import(yaml('first'))
    await recipes.import(yaml('second'))
    expect(
      recipes
        .list()
        .filter((r) => r.id === 'mine')
        .map((r) => r.title),
    ).toEqual(['second'])
    const err = await rejection<CortexError>(recipes.import(yaml('x', 'vllm-bge-m3')))
    expect(err).toMatchObject({ code: 'invalid_request', details: { param: 'id' } })
    expect(err.message).toContain('shipped with Cortex; choose another id')
  })

  it('skips an imported file that no longer passes, with a warning naming it', () => {
    fs.mkdirSync(path.join(dir, 'recipes'))
    fs.writeFileSync(path.join(dir, 'recipes', 'broken.yaml'), 'id: broken\ntitle: t\n')
    fs.writeFileSync(
      path.join(dir, 'recipes', 'other.yaml'),
      'id: not-other\ntitle: t\ndescription: d\nmodel: { name: o, engine: vllm, runtime: docker, source: o/m }\n',
    )
    const { logger: log, lines } = memoryLogger()
    const recipes = createRecipeService({ importDir: path.join(dir, 'recipes'), logger: log })
    expect(recipes.list().filter((r) => r.origin === 'imported')).toEqual([])
    expect(lines.map((l) => [l.msg, path.basename(l.file as string), l.problem])).toEqual([
      ['imported recipe skipped', 'broken.yaml', expect.stringContaining('missing required key "description"')],
      ['imported recipe skipped', 'other.yaml', 'id "not-other" must be the file\'s name without .yaml ("other")'],
    ])
  })

  it('refuses to start over a broken shipped recipe, naming the file', () => {
    const bad = 'id: bad\ntitle: t\ndescription: d\nmodel: { name: b, engine: vllm, runtime: docker, args: ["--port", "1"] }\n'
    fs.writeFileSync(path.join(dir, 'bad.yaml'), bad)
    expect(() => createRecipeService({ importDir: path.join(dir, 'recipes'), shippedDir: dir, logger })).toThrow(
      /shipped recipe .*bad\.yaml is broken: invalid recipe: line 4 model\.args\[0\]: "--port" is managed by Cortex/,
    )
  })
})

describe('parseRecipe', () => {
  const valid = ['id: r', 'title: t', 'description: d', 'model:', '  name: r', '  engine: llamacpp', '  runtime: process']

  it.each([
    [
      'a YAML syntax error, with its line',
      [...valid.slice(0, 3), 'model: [', '  name: r'],
      undefined,
      /^recipe is not valid YAML: line \d/,
    ],
    [
      'a wrong value, at its path and line',
      valid.map((l) => l.replace('llamacpp', 'ollama')),
      'model.engine',
      /line 6 model\.engine: expected one of llamacpp, vllm, openai \(got "ollama"\)/,
    ],
    ['an unknown key', [...valid, '  apiKey: sk-1'], 'model.apiKey', /line 8 model\.apiKey: unknown key "apiKey"/],
    [
      'an id that is no file name',
      valid.map((l) => l.replace('id: r', 'id: My Recipe')),
      'id',
      /line 1 id: expected the file name without \.yaml/,
    ],
    [
      'a flag Cortex manages',
      [...valid, '  args: ["-m", "/x.gguf"]'],
      'model.args[0]',
      /line 8 model\.args\[0\]: "-m" is managed by Cortex/,
    ],
    [
      'an engine that cannot run on the runtime',
      [...valid.slice(0, 4), '  name: r', '  engine: openai', '  runtime: process'],
      'model.runtime',
      /engine openai cannot run on runtime process/,
    ],
    ['an empty document', [''], undefined, /recipe: expected a mapping \(got nothing\)/],
  ])('refuses %s', (_what, lines, param, message) => {
    const err = thrown(() => parseRecipe(lines.join('\n')))
    expect(err.code).toBe('invalid_request')
    expect(err.details?.param).toBe(param)
    expect(err.message).toMatch(message)
  })

  it('accepts a recipe whose source is left to overrides, and an apiKeyEnv not set on this machine', () => {
    const remote =
      'id: t\ntitle: t\ndescription: d\nmodel: { name: t, engine: openai, runtime: remote, baseUrl: "http://h/v1", apiKeyEnv: UNSET_VAR }'
    expect(parseRecipe(remote).model.apiKeyEnv).toBe('UNSET_VAR')
    expect(parseRecipe(valid.join('\n')).model.source).toBeUndefined()
  })
})
