import { useSyncExternalStore } from 'react'

/** The current time, re-read every `everyMs` while a component shows it (ages, countdowns, load progress). */
interface Clock {
  now: number
  listeners: Set<() => void>
  timer: ReturnType<typeof setInterval> | null
  /** One subscribe function per clock: a new one each render would make React resubscribe on every render. */
  subscribe: (listener: () => void) => () => void
  read: () => number
}

const clocks = new Map<number, Clock>()

function clock(everyMs: number): Clock {
  const existing = clocks.get(everyMs)
  if (existing) return existing
  const c: Clock = {
    now: Date.now(),
    listeners: new Set(),
    timer: null,
    subscribe: (listener) => {
      c.listeners.add(listener)
      // A clock nobody watched has a stale reading: refresh it (React renders once more with it).
      if (c.timer === null) c.now = Date.now()
      c.timer ??= setInterval(() => {
        c.now = Date.now()
        for (const fn of c.listeners) fn()
      }, everyMs)
      return () => {
        c.listeners.delete(listener)
        if (c.listeners.size === 0 && c.timer !== null) {
          clearInterval(c.timer)
          c.timer = null
        }
      }
    },
    read: () => c.now,
  }
  clocks.set(everyMs, c)
  return c
}

export function useNow(everyMs = 1000): number {
  const c = clock(everyMs)
  return useSyncExternalStore(c.subscribe, c.read)
}
