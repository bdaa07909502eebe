import { useSyncExternalStore } from 'react'

/** The current time, re-read every `everyMs` while a component shows it (ages, countdowns, load progress). */
const clocks = new Map<number, { now: number; listeners: Set<() => void>; timer: ReturnType<typeof setInterval> | null }>()

function clock(everyMs: number) {
  let c = clocks.get(everyMs)
  if (!c) {
    c = { now: Date.now(), listeners: new Set(), timer: null }
    clocks.set(everyMs, c)
  }
  return c
}

export function useNow(everyMs = 1000): number {
  const c = clock(everyMs)
  return useSyncExternalStore(
    (listener) => {
      c.listeners.add(listener)
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
    () => c.now,
  )
}
