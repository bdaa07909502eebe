import type { ModelView } from '../../../gateway/contract/index.js'
import { modelView as contractModelView } from '../../../gateway/contract/admin.test-support.js'

/** A model as the admin API shows it (the contract's own fixture), named by its id, stopped unless `over` says otherwise. */
export function modelView(id: string, over: Partial<ModelView['status']> = {}, def: Partial<ModelView> = {}): ModelView {
  const { status: _status, hasApiKey, ...definition } = def
  const view = contractModelView({ id, name: id, ...definition }, over)
  return hasApiKey === undefined ? view : { ...view, hasApiKey }
}
