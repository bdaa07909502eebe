import { GgufInspectBody, type GgufInspectView } from '../../contract/console.js'
import { inspectGguf } from '../../models/inspect.js'
import type { AdminApp } from './index.js'

/**
 * What the console's first-run screen asks before anything is saved or started: a GGUF file's facts and GPU memory
 * estimate. Admins only (the admin hook lets no key's POST through).
 */
export function inspectRoutes(app: AdminApp): void {
  app.post('/gguf/inspect', { schema: { body: GgufInspectBody } }, async (req): Promise<GgufInspectView> =>
    inspectGguf(req.body.path),
  )
}
