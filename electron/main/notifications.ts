import type { AdminEvent } from '../../gateway/contract/admin.js'
import type { EngineState } from '../../gateway/contract/model.js'

export interface DesktopNotification {
  title: string
  body: string
  /** The model it is about: clicking it opens the console on that model. */
  modelId?: string
}

type StateEvent = Extract<AdminEvent, { type: 'model_state' }>

/**
 * The notification a model's state change gives, if any (issue 13): ready after a load, a failed start with the
 * diagnosis' cause, and an eviction (told apart from a stop by the event's reason). `before` is the model's state
 * before this event; events for one replica of a model already running give nothing.
 */
export function notificationFor(event: StateEvent, before: EngineState | undefined): DesktopNotification | null {
  const { id: modelId, name } = event
  if (event.state === before) return null
  if (event.state === 'running' && (before === 'starting' || before === 'loading')) {
    return { modelId, title: `${name} is ready`, body: `${name} is running and answering on /v1.` }
  }
  if (event.state === 'failed') {
    const d = event.diagnosis
    return {
      modelId,
      title: `${name} failed to start`,
      body: d ? `${d.cause}: ${d.message}` : 'No diagnosis was recorded; its log in the console says more.',
    }
  }
  if ((event.state === 'stopping' || event.state === 'stopped') && event.reason === 'evicted' && before !== 'stopping') {
    return {
      modelId,
      title: `${name} was stopped to make room`,
      body: `Another model needed its GPU memory; ${name} starts again on its next request.`,
    }
  }
  return null
}
