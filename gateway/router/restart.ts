/** After this many failed starts in a row a model stays `failed` until an explicit start or a changed definition. */
export const MAX_CONSECUTIVE_FAILURES = 5

const BASE_DELAY_MS = 1000
const MAX_DELAY_MS = 16_000

/** Backoff before the next automatic restart: 1 s, 2 s, 4 s, 8 s, 16 s, then 16 s. */
export function restartDelay(consecutiveFailures: number): number {
  if (consecutiveFailures <= 0) return 0
  return Math.min(BASE_DELAY_MS * 2 ** (consecutiveFailures - 1), MAX_DELAY_MS)
}

export function mayAutoRestart(consecutiveFailures: number): boolean {
  return consecutiveFailures < MAX_CONSECUTIVE_FAILURES
}
