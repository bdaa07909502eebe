import { CortexError } from '../contract/errors.js'
import type { KeyLimits } from '../contract/keys.js'
import type { ApiKeyRecord } from './types.js'

export type LimitName = keyof KeyLimits

/** One admitted request's hold on its key's limits. */
export interface Ticket {
  /** OpenAI's `x-ratelimit-*` headers for the response: what is left after this request. */
  headers: Record<string, string>
  /** The request is over: frees its concurrency slot and charges its real tokens (its reservation when unknown). */
  settle(tokens: number | null): void
}

export interface Limiter {
  /** Admits a request that reserves `tokens`, or throws 429 rate_limit_exceeded naming the limit it hit. */
  admit(key: ApiKeyRecord, tokens: number): Promise<Ticket>
}

export const WINDOW_MS = 60_000
const DAY_MS = 86_400_000

/** What a request reserves at admission: its completion budget plus its prompt, estimated at 4 bytes a token. */
export function reservation(maxTokens: unknown, bodyBytes: number): number {
  const budget = typeof maxTokens === 'number' && Number.isFinite(maxTokens) && maxTokens > 0 ? Math.ceil(maxTokens) : 0
  return budget + Math.ceil(bodyBytes / 4)
}

/** Go-style durations as OpenAI writes them in `x-ratelimit-reset-*`: `20ms`, `12s`, `1m0s`. */
export function resetText(ms: number): string {
  if (ms <= 0) return '0s'
  if (ms < 1000) return `${Math.ceil(ms)}ms`
  const s = Math.ceil(ms / 1000)
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`
}

interface Spent {
  at: number
  tokens: number
}

interface KeyState {
  /** Admission times in the last window, oldest first. */
  requests: number[]
  /** Tokens charged in the last window, oldest first. */
  spent: Spent[]
  inFlight: number
  /** The UTC day (days since the epoch) that `dayUsed` and `dayReserved` count. */
  day: number
  dayUsed: number
  dayReserved: number
}

export interface MemoryLimiterOptions {
  /** Tokens each key used today before this start (KeyRepo.tokensSince at the UTC day's start). */
  usedToday: Map<string, number>
  now?: () => number
}

/**
 * Per-key limits in this process's memory: sliding 60 s windows for requests and tokens (never more than the limit in
 * any window), a counter of requests in flight, and the UTC day's tokens. Each check and its update happen in one
 * synchronous step, so concurrent requests can never be admitted past a limit.
 */
export function createMemoryLimiter(options: MemoryLimiterOptions): Limiter {
  const now = options.now ?? Date.now
  const startDay = Math.floor(now() / DAY_MS)
  const states = new Map<string, KeyState>()

  const stateOf = (id: string, t: number): KeyState => {
    const day = Math.floor(t / DAY_MS)
    let s = states.get(id)
    if (s === undefined) {
      const dayUsed = day === startDay ? (options.usedToday.get(id) ?? 0) : 0
      s = { requests: [], spent: [], inFlight: 0, day, dayUsed, dayReserved: 0 }
      states.set(id, s)
    }
    while (s.requests.length > 0 && s.requests[0]! <= t - WINDOW_MS) s.requests.shift()
    while (s.spent.length > 0 && s.spent[0]!.at <= t - WINDOW_MS) s.spent.shift()
    if (s.day !== day) Object.assign(s, { day, dayUsed: 0, dayReserved: 0 })
    return s
  }

  return {
    async admit(key, tokens) {
      const t = now()
      const s = stateOf(key.id, t)
      check(key, s, tokens, t)
      s.inFlight++
      s.requests.push(t)
      const spent = { at: t, tokens }
      s.spent.push(spent)
      s.dayReserved += tokens
      const day = s.day
      const headers = rateHeaders(key.limits, s, t)
      let settled = false
      return {
        headers,
        settle(real) {
          if (settled) return
          settled = true
          s.inFlight--
          const charged = real ?? tokens
          spent.tokens = charged
          // A request that began before midnight is charged to the day it ends in; yesterday's reservations are gone.
          if (s.day === day) s.dayReserved -= tokens
          s.dayUsed += charged
        },
      }
    },
  }
}

function check(key: ApiKeyRecord, s: KeyState, tokens: number, t: number): void {
  const { rpm, tpm, concurrency, dailyTokens } = key.limits
  const limited = (limit: LimitName, message: string, retryMs: number) =>
    new CortexError('rate_limit_exceeded', `API key "${key.name}": ${message}`, {
      limit,
      retryAfterSeconds: Math.max(1, Math.ceil(retryMs / 1000)),
      headers: rateHeaders(key.limits, s, t),
    })
  if (concurrency !== null && s.inFlight >= concurrency)
    throw limited('concurrency', `${concurrency} requests already in flight (its concurrency limit); retry when one ends`, 1000)
  if (rpm !== null && s.requests.length >= rpm)
    throw limited('rpm', `${rpm} requests in the last minute (its rpm limit)`, s.requests[0]! + WINDOW_MS - t)
  if (tpm !== null) {
    if (tokens > tpm)
      throw limited(
        'tpm',
        `this request reserves ${tokens} tokens (max_tokens plus the prompt at 4 bytes a token), more than its tpm limit ` +
          `of ${tpm}; lower max_tokens or shorten the prompt`,
        WINDOW_MS,
      )
    const used = s.spent.reduce((n, e) => n + e.tokens, 0)
    if (used + tokens > tpm) {
      // The wait is until enough of the window's tokens age out for this reservation to fit.
      let freed = 0
      let until = WINDOW_MS
      for (const e of s.spent) {
        freed += e.tokens
        if (used - freed + tokens <= tpm) {
          until = e.at + WINDOW_MS - t
          break
        }
      }
      throw limited(
        'tpm',
        `${used} tokens in the last minute and this request reserves ${tokens} (its tpm limit is ${tpm})`,
        until,
      )
    }
  }
  if (dailyTokens !== null && s.dayUsed + s.dayReserved + tokens > dailyTokens) {
    const midnight = (s.day + 1) * DAY_MS
    throw limited(
      'dailyTokens',
      `${s.dayUsed + s.dayReserved} of its ${dailyTokens} daily tokens are used (UTC day)`,
      midnight - t,
    )
  }
}

/** OpenAI's headers for the per-minute limits the key has; none for limits it has not. */
function rateHeaders(limits: KeyLimits, s: KeyState, t: number): Record<string, string> {
  const headers: Record<string, string> = {}
  if (limits.rpm !== null) {
    headers['x-ratelimit-limit-requests'] = String(limits.rpm)
    headers['x-ratelimit-remaining-requests'] = String(Math.max(0, limits.rpm - s.requests.length))
    headers['x-ratelimit-reset-requests'] = resetText(s.requests.length > 0 ? s.requests[0]! + WINDOW_MS - t : 0)
  }
  if (limits.tpm !== null) {
    const used = s.spent.reduce((n, e) => n + e.tokens, 0)
    headers['x-ratelimit-limit-tokens'] = String(limits.tpm)
    headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, limits.tpm - used))
    headers['x-ratelimit-reset-tokens'] = resetText(s.spent.length > 0 ? s.spent[0]!.at + WINDOW_MS - t : 0)
  }
  return headers
}
