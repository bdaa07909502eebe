import Type, { type Static } from 'typebox'
import { ModelPatchBody } from './admin.js'
import { ModelConfig } from './config.js'

/** A recipe's id is its file's stem, so it is also a safe file name. */
export const RecipeId = Type.String({
  pattern: '^[a-z0-9][a-z0-9._-]*$',
  maxLength: 100,
  description: 'the file name without .yaml: lowercase letters, digits and . _ - that starts with a letter or digit',
})

/** A model entry as in the config file, without `apiKey`: recipes are shared, and a secret must not travel with them. */
export const RecipeModel = Type.Omit(ModelConfig, ['apiKey'], {
  additionalProperties: false,
  description: 'the model entry (as in the config file, without apiKey); POST /models {recipe, overrides} changes any field',
})

/** A model recipe: what a person reads to choose one, and the model entry it creates. */
export const Recipe = Type.Object(
  {
    id: RecipeId,
    title: Type.String({ minLength: 1 }),
    description: Type.String({ minLength: 1 }),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    requires: Type.Optional(
      Type.Object(
        {
          gpus: Type.Optional(Type.Integer({ minimum: 1, description: 'how many GPUs the model is spread over' })),
          vramGiB: Type.Optional(Type.Number({ minimum: 0, description: 'GPU memory needed on each of those GPUs, GiB' })),
        },
        { additionalProperties: false, description: 'hints for choosing hardware; not checked when the model is created' },
      ),
    ),
    sourceHint: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'what overrides.source must be when model.source is not set (e.g. which GGUF file to download)',
      }),
    ),
    model: RecipeModel,
  },
  { additionalProperties: false },
)
export type Recipe = Static<typeof Recipe>

/** A recipe on the admin API: shipped with Cortex (read-only) or imported into the data directory. */
export type RecipeView = Recipe & { origin: 'shipped' | 'imported' }

/**
 * `POST /admin/api/models` from a recipe: `overrides` are applied like a PATCH (a given field replaces the recipe's,
 * `null` removes it), except that mappings (`env`, `queue`) merge key by key. Lists such as `args` are replaced whole.
 */
export const RecipeCreateBody = Type.Object(
  { recipe: Type.String({ minLength: 1 }), overrides: Type.Optional(ModelPatchBody) },
  { additionalProperties: false },
)
export type RecipeCreateBody = { recipe: string; overrides?: ModelPatchBody }
