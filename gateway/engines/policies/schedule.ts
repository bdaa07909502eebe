import { DAYS, type Day, type ScheduleWindow } from '../../contract/schedule.js'

export type { ScheduleWindow } from '../../contract/schedule.js'

/**
 * Availability windows (`schedule:` on a model): days of the week, from–to wall-clock times, an IANA time zone.
 * Pure: every function takes the instant it is asked about. A window that ends at or before it starts runs past
 * midnight and belongs to the day it starts on; from = to is the whole day.
 */

const MINUTE = 60_000
const WEEK_MINUTES = 7 * 24 * 60
/** Far enough to find the next change of any weekly schedule, DST days included. */
const HORIZON_MS = 8 * 24 * 60 * MINUTE

const formats = new Map<string, Intl.DateTimeFormat>()
function formatFor(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    formats.set(timeZone, f)
  }
  return f
}

/** Whether `timeZone` is one the runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatFor(timeZone)
    return true
  } catch {
    return false
  }
}

/** The local day and minute of the day at `at` in `timeZone`. */
export function localTime(at: number, timeZone: string): { day: number; minute: number } {
  let day = 0
  let hour = 0
  let minute = 0
  for (const p of formatFor(timeZone).formatToParts(at)) {
    if (p.type === 'weekday') day = DAYS.indexOf(p.value.toLowerCase() as Day)
    else if (p.type === 'hour') hour = Number(p.value)
    else if (p.type === 'minute') minute = Number(p.value)
  }
  return { day, minute: hour * 60 + minute }
}

const startsOn = (w: ScheduleWindow, day: number) => w.days.length === 0 || w.days.includes(DAYS[day]!)

export function windowOpen(w: ScheduleWindow, at: number): boolean {
  const { day, minute } = localTime(at, w.timeZone)
  if (w.from === w.to) return startsOn(w, day)
  if (w.from < w.to) return startsOn(w, day) && minute >= w.from && minute < w.to
  // Past midnight: the evening part on its own day, the morning part on the day after.
  return (startsOn(w, day) && minute >= w.from) || (startsOn(w, (day + 6) % 7) && minute < w.to)
}

/** Whether a model with these windows is available at `at`; no windows = always. */
export function isOpen(windows: readonly ScheduleWindow[], at: number): boolean {
  return windows.length === 0 || windows.some((w) => windowOpen(w, at))
}

/** Local minutes from `at` to the nearest from/to boundary of any window (at least 1). */
function minutesToBoundary(windows: readonly ScheduleWindow[], at: number): number {
  let best = WEEK_MINUTES
  for (const w of windows) {
    const { day, minute } = localTime(at, w.timeZone)
    const now = day * 1440 + minute
    for (let d = 0; d < 7; d++) {
      for (const edge of [w.from, w.to]) {
        const ahead = (((d * 1440 + edge - now) % WEEK_MINUTES) + WEEK_MINUTES) % WEEK_MINUTES
        if (ahead > 0 && ahead < best) best = ahead
      }
    }
  }
  return best
}

/**
 * The first whole minute after `at` at which availability flips, or null when it never does (no windows, or open
 * all week). Jumps from boundary to boundary, then narrows down to the minute, so a DST day's shifted or missing
 * hour is found where the wall clock puts it.
 */
export function nextChange(windows: readonly ScheduleWindow[], at: number): number | null {
  if (windows.length === 0) return null
  const open = isOpen(windows, at)
  let t = Math.floor(at / MINUTE) * MINUTE
  while (t - at < HORIZON_MS) {
    const next = t + minutesToBoundary(windows, t) * MINUTE
    if (isOpen(windows, next) !== open) {
      // The flip lies in (t, next]: the first minute there with the other state.
      let lo = t
      let hi = next
      while (hi - lo > MINUTE) {
        const mid = lo + Math.floor((hi - lo) / MINUTE / 2) * MINUTE
        if (isOpen(windows, mid) === open) lo = mid
        else hi = mid
      }
      return hi
    }
    t = next
  }
  return null
}

/** "02:00–06:00 Europe/Berlin, mon–fri" style words for messages and the console. */
export function describeWindows(windows: readonly ScheduleWindow[]): string {
  const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`
  return windows
    .map(
      (w) =>
        `${hhmm(w.from)}–${hhmm(w.to)} ${w.timeZone}${w.days.length > 0 && w.days.length < 7 ? ` (${w.days.join(', ')})` : ''}`,
    )
    .join('; ')
}
