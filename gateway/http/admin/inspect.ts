import { ModelCreateBody, type DryRunView } from '../../contract/admin.js'
import { GgufInspectBody, type GgufInspectView } from '../../contract/console.js'
import { inspectGguf } from '../../models/inspect.js'
import type { ModelService } from '../../services/models.js'
import type { AdminApp } from './index.js'

/**
 * What the console's forms ask before anything is saved or started: a GGUF file's facts and GPU memory estimate, and
 * what a start of a definition being written would do. Admins only (the admin hook lets no key's POST through).
 */
export function inspectRoutes(app: AdminApp, models: ModelService): void {
  app.post('/dry-run', { schema: { body: ModelCreateBody } }, async (req): Promise<DryRunView> => models.dryRunDraft(req.body))
  app.post('/gguf/inspect', { schema: { body: GgufInspectBody } }, async (req): Promise<GgufInspectView> =>
    inspectGguf(req.body.path),
  )
}
