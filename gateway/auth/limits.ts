import { CortexError } from '../contract/errors.js'
import type { ApiKeyRecord, KeyLimits } from '../contract/keys.js'

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
  close(): Promise<void>
}

export const WINDOW_MS = 60_000
const MAX_BUDGET = 1_000_000_000
export const DAY_MS = 86_400_000

/** What the engine may generate when neither the request nor the model says (no cap sent, context unknown). */
export const UNKNOWN_CONTEXT = 131_072

/** The output a request asks for: its largest output cap (null = none sent) and how many choices (`n`). */
export interface OutputAsk {
  cap: number | null
  n: number
}

/**
 * What a request reserves at admission: the largest output it can produce plus its prompt, estimated at 4 bytes a
 * token. The output is its cap, or without one what the engine may generate (the context left after the prompt),
 * times `n`: a request must not get past a tpm limit by leaving the cap out or asking for many choices.
 */
export function reservation(ask: OutputAsk, bodyBytes: number, contextLength: number | null): number {
  const prompt = Math.ceil(bodyBytes / 4)
  const room = contextLength === null ? UNKNOWN_CONTEXT : Math.max(contextLength - prompt, 0)
  const output = Math.min(ask.cap ?? room, room) * ask.n
  // No model has a billion-token context: a larger figure is only a way to overflow the counters.
  return Math.min(output, MAX_BUDGET) + prompt
}

/** Go-style durations as OpenAI writes them in `x-ratelimit-reset-*`: `20ms`, `12s`, `1m0s`. */
export function resetText(ms: number): string {
  if (ms <= 0) return '0s'
  if (ms < 1000) return `${Math.ceil(ms)}ms`
  const s = Math.ceil(ms / 1000)
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`
}

/** A key's use of its 60 s windows, as the headers report it. */
export interface WindowUse {
  requests: number
  /** Until the oldest request in the window leaves it. */
  requestsResetMs: number
  tokens: number
  tokensResetMs: number
}

/** OpenAI's headers for the per-minute limits the key has; none for limits it has not. */
export function rateHeaders(limits: KeyLimits, use: WindowUse): Record<string, string> {
  const headers: Record<string, string> = {}
  if (limits.rpm !== null) {
    headers['x-ratelimit-limit-requests'] = String(limits.rpm)
    headers['x-ratelimit-remaining-requests'] = String(Math.max(0, limits.rpm - use.requests))
    headers['x-ratelimit-reset-requests'] = resetText(use.requestsResetMs)
  }
  if (limits.tpm !== null) {
    headers['x-ratelimit-limit-tokens'] = String(limits.tpm)
    headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, limits.tpm - use.tokens))
    headers['x-ratelimit-reset-tokens'] = resetText(use.tokensResetMs)
  }
  return headers
}

/** What a refusal found: the key's use when it asked, and what it asked for. */
export interface Overrun {
  limit: LimitName
  /** The request's reservation. */
  tokens: number
  use: WindowUse
  dayUsed: number
  retryMs: number
}

/** The 429 for a refused request, the same whichever limiter refused it. */
export function refusal(key: ApiKeyRecord, o: Overrun): CortexError {
  const { rpm, tpm, concurrency, dailyTokens } = key.limits
  const messages: Record<LimitName, string> = {
    concurrency: `${concurrency} requests already in flight (its concurrency limit); retry when one ends`,
    rpm: `${rpm} requests in the last minute (its rpm limit)`,
    tpm:
      tpm !== null && o.tokens > tpm
        ? `this request reserves ${o.tokens} tokens (the most it can generate — its output cap times n, for each ` +
          `prompt, or without a cap the model's context — plus the prompt at 4 bytes a token), more than its tpm ` +
          `limit of ${tpm}; send a lower max_tokens (or max_completion_tokens, max_output_tokens) or shorten the prompt`
        : `${o.use.tokens} tokens in the last minute and this request reserves ${o.tokens} (its tpm limit is ${tpm})`,
    dailyTokens: `${o.dayUsed} of its ${dailyTokens} daily tokens are used (UTC day)`,
  }
  return new CortexError('rate_limit_exceeded', `API key "${key.name}": ${messages[o.limit]}`, {
    limit: o.limit,
    retryAfterSeconds: Math.max(1, Math.ceil(o.retryMs / 1000)),
    headers: rateHeaders(key.limits, o.use),
  })
}

/** Limiter state is keyed by the key's hash: the same key registered on two gateways (`--key`) is one key. */
export const limiterId = (key: ApiKeyRecord) => key.hash

interface Spent {
  at: number
  tokens: number
}

interface KeyState {
  /** Admission times in the last window, oldest first. */
  requests: number[]
  /** Tokens charged in the last window, oldest first, and their sum. */
  spent: Spent[]
  spentTotal: number
  inFlight: number
  /** The UTC day (days since the epoch) that `dayUsed` and `dayReserved` count. */
  day: number
  dayUsed: number
  dayReserved: number
}

export interface MemoryLimiterOptions {
  /** Tokens each key (by hash) used today before this start: the usage table at the UTC day's start. */
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
      s = { requests: [], spent: [], spentTotal: 0, inFlight: 0, day, dayUsed, dayReserved: 0 }
      states.set(id, s)
    }
    while (s.requests.length > 0 && s.requests[0]! <= t - WINDOW_MS) s.requests.shift()
    while (s.spent.length > 0 && s.spent[0]!.at <= t - WINDOW_MS) s.spentTotal -= s.spent.shift()!.tokens
    if (s.day !== day) Object.assign(s, { day, dayUsed: 0, dayReserved: 0 })
    return s
  }

  return {
    async admit(key, tokens) {
      const t = now()
      const s = stateOf(limiterId(key), t)
      const overrun = check(key.limits, s, tokens, t)
      if (overrun !== null) throw refusal(key, overrun)
      s.inFlight++
      // Windows are kept only for the limits the key has: a key without rpm or tpm costs no memory per request.
      if (key.limits.rpm !== null) s.requests.push(t)
      const spent = { at: t, tokens }
      if (key.limits.tpm !== null) {
        s.spent.push(spent)
        s.spentTotal += tokens
      }
      s.dayReserved += tokens
      const day = s.day
      const headers = rateHeaders(key.limits, use(s, t))
      let settled = false
      return {
        headers,
        settle(real) {
          if (settled) return
          settled = true
          s.inFlight--
          const charged = real ?? tokens
          if (key.limits.tpm !== null) {
            const t = now()
            if (spent.at > t - WINDOW_MS) {
              s.spentTotal += charged - spent.tokens
              spent.tokens = charged
            } else {
              // A request longer than the window left it with its reservation; its real tokens count from now.
              s.spent.push({ at: t, tokens: charged })
              s.spentTotal += charged
            }
          }
          // A request that began before midnight is charged to the day it ends in; yesterday's reservations are gone.
          if (s.day === day) s.dayReserved -= tokens
          s.dayUsed += charged
        },
      }
    },
    close: async () => {},
  }
}

function use(s: KeyState, t: number): WindowUse {
  return {
    requests: s.requests.length,
    requestsResetMs: s.requests.length > 0 ? s.requests[0]! + WINDOW_MS - t : 0,
    tokens: s.spentTotal,
    tokensResetMs: s.spent.length > 0 ? s.spent[0]!.at + WINDOW_MS - t : 0,
  }
}

/** The first limit this request would pass, with when to retry; null when it fits them all. */
function check(limits: KeyLimits, s: KeyState, tokens: number, t: number): Overrun | null {
  const { rpm, tpm, concurrency, dailyTokens } = limits
  const now = use(s, t)
  const dayUsed = s.dayUsed + s.dayReserved
  const over = (limit: LimitName, retryMs: number): Overrun => ({ limit, tokens, use: now, dayUsed, retryMs })
  if (concurrency !== null && s.inFlight >= concurrency) return over('concurrency', 1000)
  if (rpm !== null && s.requests.length >= rpm) return over('rpm', now.requestsResetMs)
  if (tpm !== null && now.tokens + tokens > tpm) {
    if (tokens > tpm) return over('tpm', WINDOW_MS)
    // The wait is until enough of the window's tokens age out for this reservation to fit.
    let freed = 0
    for (const e of s.spent) {
      freed += e.tokens
      if (now.tokens - freed + tokens <= tpm) return over('tpm', e.at + WINDOW_MS - t)
    }
    return over('tpm', WINDOW_MS)
  }
  if (dailyTokens !== null && dayUsed + tokens > dailyTokens) return over('dailyTokens', (s.day + 1) * DAY_MS - t)
  return null
}
