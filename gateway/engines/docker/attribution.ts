import type { DockerClient } from './client.js'
import { LABELS } from './containers.js'

/** The GPU monitor waits on this list: a wedged daemon must not stall its samples. */
const LIST_TIMEOUT_MS = 5000

/**
 * Container id → the model id on its `ai.cortex.model` label, or null for a container that is not one of this
 * instance's (another instance's, or anyone's own GPU container). For attributing GPU memory to models. Container ids
 * are never reused, so every answer holds for good and the daemon is asked only about containers not seen before.
 */
export function modelOfContainer(client: DockerClient, instance: string): (containerId: string) => Promise<string | null> {
  const known = new Map<string, string | null>()
  let listing: Promise<void> | undefined

  const list = async () => {
    try {
      const running = await client.docker.listContainers({
        filters: { label: [`${LABELS.managed}=true`, `${LABELS.instance}=${instance}`] },
        abortSignal: AbortSignal.timeout(LIST_TIMEOUT_MS),
      })
      for (const c of running) known.set(c.Id, c.Labels[LABELS.model] ?? null)
    } catch (err) {
      client.failed(err)
      throw err
    }
  }

  return async (containerId) => {
    const seen = known.get(containerId)
    if (seen !== undefined) return seen
    // Without a daemon nothing can be told; the next sample asks again, once it is back.
    if (!client.status().available) return null
    await (listing ??= list().finally(() => (listing = undefined)))
    // A process runs in it, so it is running and would be in the list were it this instance's.
    if (!known.has(containerId)) known.set(containerId, null)
    return known.get(containerId)!
  }
}
