/** What the models screen asks of the gateway; the events stream brings the resulting states back into the store. */
import * as api from '../../api.js'
import { useStore } from '../../store/index.js'

/** A change answered with the model's new view: written at once, so the screen does not wait for the event. */
async function withView(call: Promise<api.AnyModelView>): Promise<void> {
  const view = await call
  useStore.setState((s) => ({ models: { ...s.models, [view.id]: view } }))
}

export const startModel = (id: string) => withView(api.startModel(id))
export const stopModel = (id: string) => withView(api.stopModel(id))
export const pinModel = (id: string, pinned: boolean) => withView(api.pinModel(id, pinned))
export const patchModel = (id: string, body: Parameters<typeof api.patchModel>[1]) => withView(api.patchModel(id, body))

export async function deleteModel(id: string): Promise<void> {
  await api.deleteModel(id)
  useStore.setState((s) => {
    const { [id]: _gone, ...rest } = s.models
    return { models: rest }
  })
}
