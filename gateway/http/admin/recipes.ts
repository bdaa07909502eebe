import Type, { type TSchema } from 'typebox'
import { CortexError, ModelCreateBody, RecipeCreateBody, type ModelView } from '../../contract/index.js'
import type { ModelService } from '../../services/models.js'
import type { RecipeService } from '../../services/recipes.js'
import type { AdminApp } from './index.js'
import { validatorCompiler } from './validation.js'

const Params = Type.Object({ id: Type.String({ minLength: 1 }) })
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml']

/** `/recipes…` and `/models/{id}/recipe`. Creating a model from a recipe is `POST /models` (see `createModel`). */
export function recipeRoutes(app: AdminApp, recipes: RecipeService, models: ModelService): void {
  app.get('/recipes', async () => ({ data: recipes.list() }))
  app.get('/models/:id/recipe', { schema: { params: Params } }, async (req, reply) =>
    reply.type('application/yaml').send(recipes.export(models.get(req.params.id))),
  )

  // The body is the recipe itself, YAML as written in a file: application/yaml (or text/plain, which Fastify already
  // reads as text). The YAML parser is added in a scope of its own so that no other route accepts YAML.
  app.register(async (scope) => {
    scope.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_req, body, done) => done(null, body))
    scope.post('/recipes/import', async (req, reply) => {
      if (typeof req.body !== 'string') {
        throw new CortexError('invalid_request', 'send the recipe as YAML text, with content-type: application/yaml')
      }
      return reply.code(201).send(await recipes.import(req.body))
    })
  })
}

const checkModel = bodyCheck<ModelCreateBody>(ModelCreateBody)
const checkRecipe = bodyCheck<RecipeCreateBody>(RecipeCreateBody)

/**
 * `POST /models`: a config-file entry, or `{ recipe, overrides }`. Each kind is checked against its own schema, since
 * a union's errors could only say "expected a mapping or a mapping". Whatever is wrong with a model made from a
 * recipe is fixed through `overrides`, so such errors point there.
 */
export async function createModel(body: unknown, models: ModelService, recipes: RecipeService): Promise<ModelView> {
  if (typeof body !== 'object' || body === null || !('recipe' in body)) return models.create(checkModel(body))
  const { recipe, overrides = {} } = checkRecipe(body)
  const model = recipes.modelBody(recipe, overrides)
  try {
    return await models.create(model)
  } catch (err) {
    if (!(err instanceof CortexError) || err.code !== 'invalid_request') throw err
    const param = err.details?.param
    const fix = param === undefined ? 'change it through overrides' : `set overrides.${param} to change it`
    throw new CortexError(
      'invalid_request',
      `${err.message} (the model comes from recipe "${recipe}": ${fix})`,
      param === undefined ? {} : { param: `overrides.${param}` },
    )
  }
}

/** The admin API's body validation (same messages, same `param`), called from a handler. */
function bodyCheck<T>(schema: TSchema): (value: unknown) => T {
  const validate = validatorCompiler({ schema, method: 'POST', url: '/models', httpPart: 'body' })
  return (value) => {
    const result = validate(value) as { value?: unknown; error?: Error }
    if (result.error) throw result.error
    return result.value as T
  }
}
