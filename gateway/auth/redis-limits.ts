import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { DAY_MS, WINDOW_MS, limiterId, rateHeaders, refusal, type LimitName, type Limiter, type WindowUse } from './limits.js'

/** An in-flight entry older than this is a gateway that died mid-request: it no longer holds a concurrency slot. */
const STALE_MS = 3_600_000

/**
 * One atomic admission: drop what left the windows, check concurrency, rpm, tpm and the day's tokens in that order,
 * and on success record the request, in the sets of the limits the key has only. Requests (`req`) and in-flight
 * tickets (`run`) are sorted sets scored by time; tokens (`tok`) are members `ticket|tokens` scored by admission time,
 * so a settle can swap in the real count. Members are built from the argument strings: Lua would write a large
 * number as `1e+15`, which the pattern below could not read back.
 * Returns {admitted, limit, retryMs, requests, requestsResetMs, tokens, tokensResetMs, dayUsed}.
 */
const ADMIT = `
local req, tok, run, day = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, window, stale = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local rpm, tpm, conc, daily = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local tokens, ticket, midnight = tonumber(ARGV[8]), ARGV[9], tonumber(ARGV[10])
local member = ticket .. '|' .. ARGV[8]
redis.call('ZREMRANGEBYSCORE', req, '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', tok, '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', run, '-inf', now - stale)
local requests = redis.call('ZCARD', req)
local first = redis.call('ZRANGE', req, 0, 0, 'WITHSCORES')
local requestsReset = 0
if first[2] then requestsReset = tonumber(first[2]) + window - now end
local spent = redis.call('ZRANGE', tok, 0, -1, 'WITHSCORES')
local used, tokensReset = 0, 0
for i = 1, #spent, 2 do used = used + tonumber(string.match(spent[i], '|(%d+)$')) end
if spent[2] then tokensReset = tonumber(spent[2]) + window - now end
local dayUsed = tonumber(redis.call('GET', day) or '0')
local function refuse(limit, retry) return {0, limit, retry, requests, requestsReset, used, tokensReset, dayUsed} end
if conc > 0 and redis.call('ZCARD', run) >= conc then return refuse('concurrency', 1000) end
if rpm > 0 and requests >= rpm then return refuse('rpm', requestsReset) end
if tpm > 0 and used + tokens > tpm then
  if tokens > tpm then return refuse('tpm', window) end
  local freed = 0
  for i = 1, #spent, 2 do
    freed = freed + tonumber(string.match(spent[i], '|(%d+)$'))
    if used - freed + tokens <= tpm then return refuse('tpm', tonumber(spent[i + 1]) + window - now) end
  end
  return refuse('tpm', window)
end
if daily > 0 and dayUsed + tokens > daily then return refuse('dailyTokens', midnight - now) end
if rpm > 0 then
  redis.call('ZADD', req, now, ticket)
  redis.call('PEXPIRE', req, window)
end
if tpm > 0 then
  redis.call('ZADD', tok, now, member)
  redis.call('PEXPIRE', tok, window)
end
if conc > 0 then
  redis.call('ZADD', run, now, ticket)
  redis.call('PEXPIRE', run, stale)
end
if daily > 0 then
  redis.call('INCRBY', day, tokens)
  redis.call('PEXPIRE', day, 2 * 86400000)
end
if requestsReset == 0 then requestsReset = window end
if tokensReset == 0 then tokensReset = window end
return {1, '', 0, requests + 1, requestsReset, used + tokens, tokensReset, dayUsed + tokens}
`

/**
 * The request is over: free its slot, and charge its real tokens instead of its reservation, at its admission time,
 * or from now when it outlasted the window (its reservation has left it).
 */
const SETTLE = `
local tok, run, day = KEYS[1], KEYS[2], KEYS[3]
local ticket, reserved, real = ARGV[1], ARGV[2], ARGV[3]
local now, window, tpm = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('ZREM', run, ticket)
if tpm > 0 then
  local member = ticket .. '|' .. reserved
  local at = redis.call('ZSCORE', tok, member)
  redis.call('ZREM', tok, member)
  if not at or tonumber(at) <= now - window then at = now end
  redis.call('ZADD', tok, at, ticket .. '|' .. real)
  redis.call('PEXPIRE', tok, window)
end
if redis.call('EXISTS', day) == 1 then redis.call('INCRBY', day, tonumber(real) - tonumber(reserved)) end
return 1
`

/** How many times, a second apart, a settle is sent again while Redis is unreachable: a lost one holds a slot. */
const SETTLE_TRIES = 30

type AdmitReply = [number, LimitName | '', number, number, number, number, number, number]

interface LimitCommands {
  cortexAdmit(req: string, tok: string, run: string, day: string, ...args: Array<string | number>): Promise<AdmitReply>
  cortexSettle(tok: string, run: string, day: string, ...args: Array<string | number>): Promise<number>
}

export interface RedisLimiterOptions {
  /** `limits.redis`. */
  url: string
  /** Tokens each key (by hash) used today, from this gateway's usage table: the day's counter when Redis has none. */
  usedToday: Map<string, number>
  logger: Logger
  now?: () => number
}

/**
 * Per-key limits in Redis, so every gateway process that knows a key shares its limits: counters are keyed by the
 * key's hash, each admission is one Lua script (atomic in Redis), and `{hash}` keeps a key's counters in one cluster
 * slot. Times come from this process's clock: gateways sharing a Redis should run NTP. When Redis cannot be reached,
 * requests are admitted without limits (logged), since an outage of the limiter must not become an outage of the API.
 */
export async function createRedisLimiter(options: RedisLimiterOptions): Promise<Limiter> {
  const { logger } = options
  const now = options.now ?? Date.now
  // Loaded here, not at the top: a gateway whose config names no Redis never pays for the client (~25 MB of RSS).
  const { Redis, ReplyError } = await import('ioredis')
  const redis = new Redis(options.url, {
    lazyConnect: true,
    // Fail fast while disconnected instead of queueing requests behind a reconnect.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    // A Redis that hangs without closing the connection must not hang requests: past this, admit without limits.
    commandTimeout: 500,
  }) as Redis & LimitCommands
  redis.defineCommand('cortexAdmit', { numberOfKeys: 4, lua: ADMIT })
  redis.defineCommand('cortexSettle', { numberOfKeys: 3, lua: SETTLE })
  let down = false
  redis.on('error', (err: Error) => {
    if (!down) logger.warn({ err: err.message }, 'Redis for limits is unreachable: admitting requests without limits')
    down = true
  })
  // One warning a minute while admissions fail, not one per request.
  let warnedAt = -Infinity
  const failedOpen = (err: Error, key: string) => {
    // A script error is a bug, not an outage: said louder, still not turned into refused requests.
    if (err instanceof ReplyError) logger.error({ err: err.message, key }, 'the limits script failed in Redis')
    else if (now() - warnedAt >= 60_000) {
      warnedAt = now()
      logger.warn({ err: err.message, key }, 'limits unavailable (Redis): admitting requests without limits')
    }
  }
  redis.on('ready', () => {
    if (down) logger.info('Redis for limits is back')
    down = false
  })
  try {
    await redis.connect()
  } catch (err) {
    redis.disconnect()
    throw new Error(`limits.redis: cannot connect to ${redactUrl(options.url)}: ${(err as Error).message}`, { cause: err })
  }
  // Loaded up front: EVALSHA then never misses, and a miss's EVAL retry could otherwise run after a later command.
  await Promise.all([redis.script('LOAD', ADMIT), redis.script('LOAD', SETTLE)])
  const today = Math.floor(now() / DAY_MS)
  // Another gateway may have counted today already; its figure (with everyone's use) wins over this one's table.
  await Promise.all([...options.usedToday].map(([hash, used]) => redis.set(keys(hash, today).day, used, 'PX', 2 * DAY_MS, 'NX')))

  return {
    async admit(key, tokens) {
      const t = now()
      const day = Math.floor(t / DAY_MS)
      const k = keys(limiterId(key), day)
      const ticket = randomUUID()
      const { rpm, tpm, concurrency, dailyTokens } = key.limits
      let reply: AdmitReply
      try {
        reply = await redis.cortexAdmit(
          k.req,
          k.tok,
          k.run,
          k.day,
          t,
          WINDOW_MS,
          STALE_MS,
          ...[rpm, tpm, concurrency, dailyTokens].map((v) => v ?? 0),
          tokens,
          ticket,
          (day + 1) * DAY_MS,
        )
      } catch (err) {
        failedOpen(err as Error, key.name)
        return { headers: {}, settle: () => {} }
      }
      const [admitted, limit, retryMs, requests, requestsResetMs, used, tokensResetMs, dayUsed] = reply
      const use: WindowUse = { requests, requestsResetMs, tokens: used, tokensResetMs }
      if (admitted !== 1) throw refusal(key, { limit: limit as LimitName, tokens, use, dayUsed, retryMs })
      let settled = false
      return {
        headers: rateHeaders(key.limits, use),
        settle(real) {
          if (settled) return
          settled = true
          const send = (tries: number): void =>
            void redis
              .cortexSettle(k.tok, k.run, k.day, ticket, tokens, real ?? tokens, now(), WINDOW_MS, tpm ?? 0)
              .catch((err: Error) => {
                if (tries > 1 && !(err instanceof ReplyError)) setTimeout(() => send(tries - 1), 1000).unref()
                else
                  logger.warn(
                    { err: err.message, key: key.name },
                    'settling a request in Redis failed; its slot frees within the hour',
                  )
              })
          send(SETTLE_TRIES)
        },
      }
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect())
    },
  }
}

function keys(hash: string, day: number) {
  const base = `cortex:limits:{${hash}}`
  return { req: `${base}:req`, tok: `${base}:tok`, run: `${base}:run`, day: `${base}:day:${day}` }
}

/** A Redis URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return 'the configured URL'
  }
}
