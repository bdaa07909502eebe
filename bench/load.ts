/** Load generation with undici `Pool.request` (keep-alive, one pool per target), and response checks. */
import { createHash, randomBytes } from 'node:crypto'
import { Pool } from 'undici'

/** What the bench found wrong in answers, kept apart from timing. */
export interface Tally {
  /** Non-2xx answers and transport errors. */
  errors: number
  /** Answers that do not belong to the request (nonce not echoed) or streams missing frames. */
  corrupt: number
  /** Streams checked for frames out = frames in, and how many of them were short. */
  streams: number
  shortStreams: number
  /** The first few problems, verbatim, for the report. */
  samples: string[]
}

/**
 * The API key every request carries, made for this run (procs.startCortex registers it with `cortex keys create
 * --key`): Cortex checks it as it would any client's, and engines ignore it, so both paths send the same bytes.
 */
export const BENCH_KEY = `sk-cortex-bench-${randomBytes(16).toString('hex')}`
export const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` }

export function newTally(): Tally {
  return { errors: 0, corrupt: 0, streams: 0, shortStreams: 0, samples: [] }
}

export function note(tally: Tally, kind: 'errors' | 'corrupt', message: string): void {
  tally[kind]++
  if (tally.samples.length < 5) tally.samples.push(message)
}

export function createPool(origin: string, connections: number): Pool {
  return new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 60_000, bodyTimeout: 60_000 })
}

const pads = new Map<number, { pad: string; sha: string }>()

/** A padding string of `bytes` base64 characters (no JSON escaping needed) and its sha256, made once per size. */
function padding(bytes: number): { pad: string; sha: string } {
  let entry = pads.get(bytes)
  if (!entry) {
    const pad = randomBytes(Math.ceil((bytes * 3) / 4) + 3)
      .toString('base64')
      .slice(0, bytes)
    entry = { pad, sha: createHash('sha256').update(pad).digest('hex') }
    pads.set(bytes, entry)
  }
  return entry
}

export interface ChatRequest {
  nonce: string
  body: Buffer
}

/**
 * A chat completion body of about `sizeBytes` bytes carrying a fresh nonce and the sha256 of its
 * padding, so the mock can prove the bytes arrived intact. `extra` adds fields (stream, max_tokens…).
 */
export function chatRequest(model: string, sizeBytes: number, extra: Record<string, unknown> = {}): ChatRequest {
  const nonce = randomBytes(8).toString('hex')
  const skeleton = {
    model,
    messages: [{ role: 'user', content: `bench ${nonce}` }],
    ...extra,
    nonce,
    pad: '',
    pad_sha256: '0'.repeat(64),
  }
  const { pad, sha } = padding(Math.max(1, sizeBytes - Buffer.byteLength(JSON.stringify(skeleton))))
  return { nonce, body: Buffer.from(JSON.stringify({ ...skeleton, pad, pad_sha256: sha })) }
}

export interface Answer {
  ms: number
  status: number
  text: string
}

/** One POST, timed from just before it is issued to the last byte of the answer; a transport error is status 0. */
export async function timedPost(pool: Pool, path: string, body: Buffer): Promise<Answer> {
  const start = performance.now()
  try {
    const res = await pool.request({ method: 'POST', path, headers: HEADERS, body })
    const text = await res.body.text()
    return { ms: performance.now() - start, status: res.statusCode, text }
  } catch (err) {
    return { ms: performance.now() - start, status: 0, text: `transport error: ${(err as Error).message}` }
  }
}

/** Checks a non-stream answer; `nonce` set means the upstream echoes it in the id (the mock does). */
export function checkCompletion(tally: Tally, answer: Answer, nonce?: string): void {
  if (answer.status !== 200) return note(tally, 'errors', `HTTP ${answer.status}: ${answer.text.slice(0, 300)}`)
  let parsed: { id?: unknown; choices?: unknown }
  try {
    parsed = JSON.parse(answer.text) as typeof parsed
  } catch {
    return note(tally, 'corrupt', `unparseable answer: ${answer.text.slice(0, 200)}`)
  }
  if (!Array.isArray(parsed.choices)) return note(tally, 'corrupt', `answer without choices: ${answer.text.slice(0, 200)}`)
  if (nonce !== undefined && parsed.id !== `chatcmpl-${nonce}`)
    note(tally, 'corrupt', `answer id ${String(parsed.id)} does not echo nonce ${nonce}`)
}

/**
 * Closed loop: `concurrency` workers each issue the next request as soon as the previous one ends,
 * until `count` requests were issued or `durationMs` passed. Returns completions and elapsed time.
 */
export async function closedLoop(
  pool: Pool,
  path: string,
  opts: { concurrency: number; count?: number; durationMs?: number; make: () => ChatRequest; tally: Tally },
): Promise<{ completed: number; seconds: number }> {
  const start = performance.now()
  const deadline = opts.durationMs === undefined ? Infinity : start + opts.durationMs
  let issued = 0
  let completed = 0
  const worker = async () => {
    while (issued < (opts.count ?? Infinity) && performance.now() < deadline) {
      issued++
      const { nonce, body } = opts.make()
      checkCompletion(opts.tally, await timedPost(pool, path, body), nonce)
      completed++
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency }, worker))
  return { completed, seconds: (performance.now() - start) / 1000 }
}

export interface StreamResult {
  /** Request start → first content frame, ms. */
  ttftMs: number
  /** Arrival time of each content frame, ms since the request started. */
  arrivals: number[]
  contentFrames: number
  usageFrames: number
  done: boolean
}

/** Reads a mock SSE chat stream, timestamping each content frame as the chunk that completes it arrives. */
export async function timedStream(pool: Pool, path: string, request: ChatRequest, tally: Tally): Promise<StreamResult> {
  const start = performance.now()
  const result: StreamResult = { ttftMs: Number.NaN, arrivals: [], contentFrames: 0, usageFrames: 0, done: false }
  const onData = (data: string, now: number) => {
    if (data === '[DONE]') {
      result.done = true
      return
    }
    let frame: { id?: string; choices?: { delta?: { content?: string } }[]; usage?: unknown; error?: unknown }
    try {
      frame = JSON.parse(data) as typeof frame
    } catch {
      return note(tally, 'corrupt', `unparseable frame: ${data.slice(0, 200)}`)
    }
    if (frame.error !== undefined) note(tally, 'errors', `error frame: ${data.slice(0, 300)}`)
    else if (frame.id !== `chatcmpl-${request.nonce}`) note(tally, 'corrupt', `frame id ${frame.id} ≠ nonce ${request.nonce}`)
    if (frame.choices?.[0]?.delta?.content !== undefined) {
      if (result.contentFrames === 0) result.ttftMs = now
      result.arrivals.push(now)
      result.contentFrames++
    } else if (frame.choices?.length === 0 && frame.usage !== undefined) {
      result.usageFrames++
    }
  }
  try {
    const res = await pool.request({ method: 'POST', path, headers: HEADERS, body: request.body })
    if (res.statusCode !== 200) {
      note(tally, 'errors', `stream HTTP ${res.statusCode}: ${(await res.body.text()).slice(0, 300)}`)
      return result
    }
    let buffered = ''
    res.body.setEncoding('utf8')
    for await (const chunk of res.body as AsyncIterable<string>) {
      const now = performance.now() - start
      buffered += chunk
      let end: number
      while ((end = buffered.indexOf('\n\n')) !== -1) {
        const event = buffered.slice(0, end)
        buffered = buffered.slice(end + 2)
        if (event.startsWith('data: ')) onData(event.slice(6), now)
      }
    }
  } catch (err) {
    note(tally, 'errors', `stream transport error: ${(err as Error).message}`)
  }
  return result
}

/** A mock stream request; `include_usage` so Cortex passes the usage chunk and frame counts compare. */
export function streamRequest(model: string, frames: number, gapMs: number): ChatRequest {
  return chatRequest(model, 300, {
    stream: true,
    stream_options: { include_usage: true },
    mock_frames: frames,
    mock_gap_ms: gapMs,
  })
}

/** Frames out must equal frames in: every content frame, the usage chunk and `[DONE]`; false (and noted) when short. */
export function checkFrames(tally: Tally, s: StreamResult, frames: number, where: string): boolean {
  tally.streams++
  if (s.contentFrames === frames && s.usageFrames === 1 && s.done) return true
  tally.shortStreams++
  note(tally, 'corrupt', `${where}: ${s.contentFrames}/${frames} content frames, ${s.usageFrames} usage, [DONE] ${s.done}`)
  return false
}
