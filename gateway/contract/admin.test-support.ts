import type { ModelView } from './admin.js'
import type { ModelDefinition, ModelStatus } from './model.js'
import { modelDefinition, modelStatusOf } from './model.test-support.js'

/** A ModelView as `GET /admin/api/models` shows it; `status` fields replace the stopped defaults. */
export function modelView(definition: Partial<ModelDefinition> = {}, status: Partial<ModelStatus> = {}): ModelView {
  const { apiKey, ...rest } = modelDefinition(definition)
  return { ...rest, hasApiKey: apiKey !== undefined, status: modelStatusOf(rest, status) }
}
