/** The app's one events stream (`/admin/api/events`) into the store: a snapshot first (after every reconnect too),
 *  then deltas. */
import type { AdminEvent } from '../../../gateway/contract/index.js'
import { ApiError, EVENTS_URL, getModel, getSession } from '../api.js'
import { useStore } from './index.js'
import { applyEvent } from './slices.js'
import { type EventSourceFactory, ReconnectingStream } from './stream.js'

const TYPES = [
  'snapshot',
  'model_state',
  'model_updated',
  'model_removed',
  'schedule',
  'docker',
  'image_pull',
  'gpu_sample',
] as const

let stream: ReconnectingStream | null = null

/** Whether a dropped stream should come back: not when the session has ended (the 401 signs the page out). */
async function sessionAlive(): Promise<boolean> {
  try {
    await getSession()
    return true
  } catch (err) {
    return !(err instanceof ApiError && err.status === 401)
  }
}

export function handleEvent(type: string, data: string, now = Date.now()): void {
  let event: AdminEvent
  try {
    event = JSON.parse(data) as AdminEvent
  } catch {
    return
  }
  if (event.type !== type) return
  useStore.setState((s) => applyEvent(s, event, now))
  // A state event carries no context length: the engine reports it once running, so the model is read again then.
  if (event.type === 'model_state' && event.state === 'running') void refreshModel(event.id)
}

async function refreshModel(id: string): Promise<void> {
  try {
    const view = await getModel(id)
    // Only while it still runs: a later event (stopping, failed) is newer than this answer.
    useStore.setState((s) => (s.models[id]?.status.state !== 'running' ? {} : { models: { ...s.models, [id]: view } }))
  } catch {
    // Gone meanwhile, or the session ended: the stream's next events say what is true.
  }
}

/** Opens the stream unless it is open already: one EventSource for the whole app. */
export function startEvents(factory?: EventSourceFactory): void {
  if (stream !== null) return
  stream = new ReconnectingStream({
    url: EVENTS_URL,
    types: TYPES,
    onMessage: (type, data) => handleEvent(type, data),
    onState: (connection) => useStore.setState({ connection }),
    shouldReconnect: sessionAlive,
    ...(factory ? { factory } : {}),
  }).start()
}

export function stopEvents(): void {
  stream?.stop()
  stream = null
  useStore.setState({ connection: 'idle' })
}
