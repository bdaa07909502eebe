/** Data a screen reads from the admin API, with its loading and error states (each has a view component). */
export type Remote<T> =
  | { status: 'idle' }
  | { status: 'loading'; data: T | null }
  | { status: 'ready'; data: T }
  /** `missing`: the connected gateway lacks the route (an older version), not a failure to show in red. */
  | { status: 'error'; error: string; missing: boolean; data: T | null }

export const IDLE = { status: 'idle' } as const

/** The data to show whatever the state: the last good answer stays on screen while a reload runs or fails. */
export function dataOf<T>(remote: Remote<T>): T | null {
  return remote.status === 'idle' ? null : remote.data
}
