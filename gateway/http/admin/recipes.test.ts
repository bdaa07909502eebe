import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CortexError } from '../../contract/errors.js'
import { createRecipeService } from '../../services/recipes.js'
import { adminApp, auth } from './fakes.test-support.js'

let dir: string
let fixture: ReturnType<typeof adminApp>

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-recipe-routes-'))
  fixture = adminApp(undefined, createRecipeService({ importDir: path.join(dir, 'recipes'), logger: pino({ level: 'silent' }) }))
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

const post = (url: string, payload: object) =>
  fixture.app.inject({ method: 'POST', url: `/admin/api${url}`, headers: auth, payload })
const importYaml = (yaml: string, contentType = 'application/yaml') =>
  fixture.app.inject({
    method: 'POST',
    url: '/admin/api/recipes/import',
    headers: { ...auth, 'content-type': contentType },
    payload: yaml,
  })
const recipeIds = async () =>
  (await fixture.app.inject({ url: '/admin/api/recipes', headers: auth })).json().data.map((r: { id: string }) => r.id)

describe('admin recipes: list', () => {
  it('lists the shipped recipes with what a person needs to choose one', async () => {
    const res = await fixture.app.inject({ url: '/admin/api/recipes', headers: auth })
    expect(res.statusCode).toBe(200)
    const tp = res.json().data.find((r: { id: string }) => r.id === 'vllm-qwen2.5-72b-instruct-awq-tp2')
    expect(tp).toMatchObject({ origin: 'shipped', title: expect.any(String), requires: { gpus: 2 }, model: { gpus: [0, 1] } })
  })

  it('needs the admin token', async () => {
    expect((await fixture.app.inject({ url: '/admin/api/recipes' })).statusCode).toBe(401)
  })
})

describe('admin recipes: create a model from one', () => {
  it('creates the recipe model with the overrides applied: 201 and the view', async () => {
    const res = await post('/models', { recipe: 'vllm-bge-m3', overrides: { name: 'embed', gpus: [1], ttl: '10m' } })
    expect(res.statusCode).toBe(201)
    expect(res.json()).toMatchObject({ id: 'id-embed', name: 'embed', engine: 'vllm', runtime: 'docker' })
    expect(fixture.models.calls).toEqual([
      [
        'create',
        {
          name: 'embed',
          engine: 'vllm',
          runtime: 'docker',
          source: 'BAAI/bge-m3',
          args: ['--runner', 'pooling', '--max-model-len', '8192', '--gpu-memory-utilization', '0.25'],
          gpus: [1],
          ttl: '10m',
        },
      ],
    ])
  })

  it.each([
    [{ recipe: 'nope' }, 'recipe', 'no recipe has id "nope" (GET /admin/api/recipes lists them: llamacpp-'],
    [
      { recipe: 'llamacpp-qwen2.5-7b-instruct' },
      'overrides.source',
      'recipe "llamacpp-qwen2.5-7b-instruct" has no source for its llamacpp model: set overrides.source to the absolute path of Qwen2.5-7B-Instruct-Q4_K_M.gguf',
    ],
    [
      { recipe: 'vllm-bge-m3', overrides: { replicas: 0 } },
      'overrides.replicas',
      'overrides.replicas: expected an integer from 1 to 64 or null (got 0)',
    ],
    [{ recipe: 'vllm-bge-m3', overrides: { bogus: 1 } }, 'overrides.bogus', 'unknown field "bogus"'],
    [{ recipe: 'vllm-bge-m3', extra: 1 }, 'extra', 'unknown field "extra" (allowed: recipe, overrides)'],
  ])('refuses %j with 400 at %s, creating nothing', async (body, param, message) => {
    const res = await post('/models', body)
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toMatchObject({ code: 'invalid_request', param, message: expect.stringContaining(message) })
    expect(fixture.models.calls).toEqual([])
  })

  it("points the model service's objections at overrides", async () => {
    fixture.models.create = async (body) => {
      throw new CortexError('invalid_request', `a model named "${body.name}" already exists`, { param: 'name' })
    }
    const res = await post('/models', { recipe: 'vllm-bge-m3' })
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toMatchObject({
      param: 'overrides.name',
      message:
        'a model named "bge-m3" already exists (the model comes from recipe "vllm-bge-m3": set overrides.name to change it)',
    })
  })
})

describe('admin recipes: export and import', () => {
  it('exports a model as YAML that imports back and creates the same model', async () => {
    const exported = await fixture.app.inject({ url: '/admin/api/models/id-api/recipe', headers: auth })
    expect(exported.statusCode).toBe(200)
    expect(exported.headers['content-type']).toMatch(/^application\/yaml/)
    expect(exported.body).toContain('name: api')

    const imported = await importYaml(exported.body)
    expect(imported.statusCode).toBe(201)
    expect(imported.json()).toMatchObject({ id: 'api', origin: 'imported', model: { name: 'api', source: '/models/tiny.gguf' } })
    expect(await recipeIds()).toContain('api')

    const res = await post('/models', { recipe: 'api', overrides: { name: 'api-copy' } })
    expect(res.statusCode).toBe(201)
    expect(fixture.models.calls.at(-1)).toEqual([
      'create',
      {
        name: 'api-copy',
        engine: 'llamacpp',
        runtime: 'process',
        source: '/models/tiny.gguf',
        queue: { size: 4, timeout: '1s' },
        startTimeout: '30s',
      },
    ])
  })

  it('answers 404 for the recipe of an unknown model', async () => {
    const res = await fixture.app.inject({ url: '/admin/api/models/id-nope/recipe', headers: auth })
    expect(res.statusCode).toBe(404)
    expect(res.json().error.code).toBe('not_found')
  })

  it('takes text/plain as well', async () => {
    const res = await importYaml(
      'id: plain\ntitle: t\ndescription: d\nmodel: { name: p, engine: vllm, runtime: docker, source: o/m }\n',
      'text/plain',
    )
    expect(res.statusCode).toBe(201)
    expect(await recipeIds()).toContain('plain')
  })

  it.each([
    ['a YAML syntax error', 'id: x\ntitle: [\n', null, /^recipe is not valid YAML: line \d+: /],
    [
      'a wrong value',
      'id: x\ntitle: t\ndescription: d\nmodel:\n  name: x\n  engine: vllm\n  runtime: docker\n  replicas: many\n',
      'model.replicas',
      /^invalid recipe: line 8 model\.replicas: expected an integer from 1 to 64 \(got "many"\)$/,
    ],
  ])('refuses %s with 400, the line and the path', async (_what, yaml, param, message) => {
    const res = await importYaml(yaml)
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toMatchObject({ code: 'invalid_request', param })
    expect(res.json().error.message).toMatch(message)
    expect(await recipeIds()).not.toContain('x')
  })

  it('refuses a JSON body, saying how to send the recipe', async () => {
    const res = await post('/recipes/import', { yaml: 'id: x' })
    expect(res.statusCode).toBe(400)
    expect(res.json().error.message).toBe('send the recipe as YAML text, with content-type: application/yaml')
  })
})
