import { CortexError } from '../contract/errors.js'

/**
 * Whether `/v1` serves inference (the tray's pause/resume). Paused, inference requests get `503 gateway_paused`; the
 * model list still answers, and engines keep running. Not kept across a restart.
 */
export interface Serving {
  paused(): boolean
  setPaused(paused: boolean): void
  /** Throws `gateway_paused` while paused. */
  admit(): void
}

/** How long a paused gateway tells clients to wait: a person resumes it, so a short look is fair. */
const PAUSED_RETRY_AFTER_S = 10

export function createServing(): Serving {
  let paused = false
  return {
    paused: () => paused,
    setPaused(value) {
      paused = value
    },
    admit() {
      if (paused) {
        throw new CortexError(
          'gateway_paused',
          'Cortex is paused: inference resumes when an admin resumes it (tray menu, or POST /admin/api/resume)',
          { retryAfterSeconds: PAUSED_RETRY_AFTER_S },
        )
      }
    },
  }
}
