import type { Runtime } from '../../contract/model.js'

/** After this many failed starts in a row an engine Cortex starts stays `failed` until an explicit start or a changed definition. */
export const MAX_CONSECUTIVE_FAILURES = 5

const BASE_DELAY_MS = 1000
const MAX_DELAY_MS = 16_000

/** Backoff before the next automatic restart: 1 s, 2 s, 4 s, 8 s, 16 s, then 16 s. */
export function restartDelay(consecutiveFailures: number): number {
  if (consecutiveFailures <= 0) return 0
  return Math.min(BASE_DELAY_MS * 2 ** (consecutiveFailures - 1), MAX_DELAY_MS)
}

/**
 * Whether a failed replica may be started (or, for a remote, polled) again without being asked. Engines Cortex
 * starts give up after MAX_CONSECUTIVE_FAILURES. Remotes never do: a poll generates no tokens, their outages are
 * usually brief, and a given-up remote would otherwise stay unusable until Cortex restarts. Nor does a Docker model
 * whose last start found no daemon: nothing of the model was tried, and it must recover when Docker comes back.
 */
export function mayAutoRestart(consecutiveFailures: number, runtime: Runtime, lastCause?: string): boolean {
  return runtime === 'remote' || lastCause === 'docker_unavailable' || consecutiveFailures < MAX_CONSECUTIVE_FAILURES
}
