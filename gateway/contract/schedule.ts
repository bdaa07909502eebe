/** The days of the week as schedules name them, Sunday first (as `Date#getDay` counts). */
export const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
export type Day = (typeof DAYS)[number]

/** One availability window of a model, normalized. */
export interface ScheduleWindow {
  /** Days it starts on; every day when empty. */
  days: Day[]
  /** Minutes after local midnight, 0–1439. */
  from: number
  to: number
  /** IANA name, e.g. Europe/Berlin. */
  timeZone: string
}
