/** True when a model should be stopped for idleness. `ttlMs` 0 means never; busy (requests in flight or
 *  waiting) and pinned models never idle out; a model never used counts from `lastUsedAt` null = not idle. */
export function idleExpired(lastUsedAt: number | null, ttlMs: number, now: number, busy: boolean, pinned: boolean): boolean {
  if (ttlMs <= 0 || busy || pinned || lastUsedAt === null) return false
  return now - lastUsedAt >= ttlMs
}
