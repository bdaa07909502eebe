import type { ModelView } from './admin.js'
import type { ModelDefinition, ModelStatus } from './model.js'
import { modelDefinition } from './model.test-support.js'

/** A ModelView as `GET /admin/api/models` shows it; `status` fields replace the stopped defaults. */
export function modelView(definition: Partial<ModelDefinition> = {}, status: Partial<ModelStatus> = {}): ModelView {
  const { apiKey, ...rest } = modelDefinition(definition)
  const { id, name, aliases, engine, runtime, pinned } = rest
  return {
    ...rest,
    hasApiKey: apiKey !== undefined,
    status: {
      ...{ id, name, aliases, engine, runtime, pinned },
      state: 'stopped',
      replicas: [],
      queued: 0,
      contextLength: null,
      diagnosis: null,
      consecutiveFailures: 0,
      retryAt: null,
      lastUsedAt: null,
      ...status,
    },
  }
}
