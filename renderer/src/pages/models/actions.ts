/** What the models screen asks of the gateway; the events stream brings the resulting states back into the store. */
import * as api from '../../api.js'
import { useStore } from '../../store/index.js'
import { loadImages } from '../../store/loaders.js'

/**
 * A change answered with the model's new view: written at once, so the screen does not wait for the event — unless
 * the events stream already brought a newer state meanwhile (an engine that fails within milliseconds sends its
 * `failed` before the `starting` answer arrives, which must not overwrite it).
 */
async function withView(id: string, call: () => Promise<api.AnyModelView>): Promise<void> {
  const before = useStore.getState().models[id]
  const view = await call()
  useStore.setState((s) => (s.models[id] !== before ? {} : { models: { ...s.models, [view.id]: view } }))
}

export const startModel = (id: string) => withView(id, () => api.startModel(id))
export const stopModel = (id: string) => withView(id, () => api.stopModel(id))
export const pinModel = (id: string, pinned: boolean) => withView(id, () => api.pinModel(id, pinned))
export const patchModel = (id: string, body: Parameters<typeof api.patchModel>[1]) => withView(id, () => api.patchModel(id, body))

export async function deleteModel(id: string): Promise<void> {
  await api.deleteModel(id)
  useStore.setState((s) => {
    const { [id]: _gone, ...rest } = s.models
    return { models: rest }
  })
}

/** Loads a `docker save` tar from a path on the gateway's machine; answers the names it brought in. */
export async function loadImageFile(path: string): Promise<string[]> {
  const { images } = await api.loadImage(path)
  void loadImages()
  return images
}

/** Takes a failed pull off the screen once its reason has been read. */
export function dismissPull(image: string): void {
  useStore.setState((s) => {
    const { [image]: _gone, ...rest } = s.pulls
    return { pulls: rest }
  })
}
