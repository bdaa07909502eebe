import type { OutputAsk } from '../auth/limits.js'
import { CortexError } from '../contract/errors.js'
import type { Endpoint } from './types.js'

/** Byte offsets `[start, end)` of a JSON value inside a buffer. */
export interface Span {
  start: number
  end: number
}

/** The top-level object of a JSON document, walked without parsing its values. */
export interface ObjectScan {
  /** Offset of the opening `{`. */
  open: number
  /** True when the object has no members (`{}`). */
  empty: boolean
  /** Value span of each wanted key; for a repeated key the last one, as JSON.parse keeps the last. */
  members: Map<string, Span>
  /** The first wanted key that appears twice, if any: engines differ in which one they read. */
  repeated: string | null
}

/** What routing reads from an inference body. Values are as JSON.parse would give them; undefined = absent. */
export interface RequestFields {
  model: unknown
  stream: unknown
  streamOptions: unknown
  /** The largest output the request lets the engine produce, and how many choices. */
  output: OutputAsk
  /** How many prompts the body holds: a `/v1/completions` batch (`"prompt": ["a", "b"]`) is answered once per prompt. */
  prompts: number
  /** Present and not null. */
  has: { messages: boolean; prompt: boolean; input: boolean }
  scan: ObjectScan
}

const QUOTE = 0x22
const BACKSLASH = 0x5c

/** Bytes that may appear outside strings inside nested values: structure, whitespace, number and literal characters. */
const NESTED_BYTES = new Uint8Array(256)
for (const c of '{}[],: \t\n\r0123456789+-.eEtruefalsn') NESTED_BYTES[c.charCodeAt(0)] = 1

const SCALAR = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)$/

function isWhitespace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

function skipWhitespace(buf: Buffer, i: number): number {
  while (isWhitespace(buf[i])) i++
  return i
}

/** `i` at an opening quote; returns the offset after the closing quote, or -1 when the string never ends. */
function stringEnd(buf: Buffer, i: number): number {
  let from = i + 1
  for (;;) {
    // memchr-speed search: prompts are long strings, and a byte-by-byte loop over them would cost as much as JSON.parse.
    const q = buf.indexOf(QUOTE, from)
    if (q < 0) return -1
    let k = q - 1
    while (buf[k] === BACKSLASH) k--
    // An even run of backslashes escapes itself, not the quote.
    if ((q - 1 - k) % 2 === 0) return q + 1
    from = q + 1
  }
}

/**
 * `i` at the first byte of a value; returns the offset after it, or -1 when it is malformed.
 * Numbers and literals are checked exactly; nested values only for balanced brackets, terminated strings and
 * plausible bytes, and strings not for their escapes: the engine validates the rest (ARCHITECTURE.md "The request
 * path"), and the fields routing reads are JSON.parse'd.
 */
export function valueEnd(buf: Buffer, i: number): number {
  const c = buf[i]
  if (c === QUOTE) return stringEnd(buf, i)
  if (c === 0x7b || c === 0x5b) return containerEnd(buf, i)
  let j = i
  while (j < buf.length && buf[j] !== 0x2c && buf[j] !== 0x7d && buf[j] !== 0x5d && !isWhitespace(buf[j])) j++
  return SCALAR.test(buf.toString('latin1', i, j)) ? j : -1
}

function containerEnd(buf: Buffer, i: number): number {
  const closers: number[] = []
  let j = i
  while (j < buf.length) {
    const b = buf[j]!
    if (b === QUOTE) {
      j = stringEnd(buf, j)
      if (j < 0) return -1
      continue
    }
    if (b === 0x7b) closers.push(0x7d)
    else if (b === 0x5b) closers.push(0x5d)
    else if (b === 0x7d || b === 0x5d) {
      if (closers.pop() !== b) return -1
      if (closers.length === 0) return j + 1
    } else if (NESTED_BYTES[b] === 0) return -1
    j++
  }
  return -1
}

/** The key's text; undefined when its escapes are invalid. */
function keyOf(buf: Buffer, start: number, end: number): string | undefined {
  const raw = buf.toString('utf8', start + 1, end - 1)
  if (!raw.includes('\\')) return raw
  try {
    return JSON.parse(buf.toString('utf8', start, end)) as string
  } catch {
    return undefined
  }
}

/** Walks the top-level object of `buf`; null when it is not a well-formed object. */
export function scanObject(buf: Buffer, wanted: Pick<ReadonlySet<string>, 'has'>): ObjectScan | null {
  const open = skipWhitespace(buf, 0)
  if (buf[open] !== 0x7b) return null
  const members = new Map<string, Span>()
  let repeated: string | null = null
  let i = skipWhitespace(buf, open + 1)
  const empty = buf[i] === 0x7d
  if (empty) i++
  while (!empty) {
    if (buf[i] !== QUOTE) return null
    const keyEnd = stringEnd(buf, i)
    if (keyEnd < 0) return null
    const key = keyOf(buf, i, keyEnd)
    if (key === undefined) return null
    i = skipWhitespace(buf, keyEnd)
    if (buf[i] !== 0x3a) return null
    const start = skipWhitespace(buf, i + 1)
    const end = valueEnd(buf, start)
    if (end < 0) return null
    if (wanted.has(key)) {
      if (repeated === null && members.has(key)) repeated = key
      members.set(key, { start, end })
    }
    i = skipWhitespace(buf, end)
    if (buf[i] === 0x7d) {
      i++
      break
    }
    if (buf[i] !== 0x2c) return null
    i = skipWhitespace(buf, i + 1)
  }
  return skipWhitespace(buf, i) === buf.length ? { open, empty, members, repeated } : null
}

/** Every field an engine reads as the most it may generate: OpenAI's two, the Responses API's, Anthropic's `max_tokens`. */
const OUTPUT_CAPS = ['max_tokens', 'max_completion_tokens', 'max_output_tokens'] as const

const REQUEST_KEYS = new Set(['model', 'stream', 'stream_options', ...OUTPUT_CAPS, 'n', 'best_of', 'messages', 'prompt', 'input'])

/** JSON.parse of one member's value (small: routing fields only); undefined when absent. */
export function memberValue(buf: Buffer, span: Span | undefined): unknown {
  return span === undefined ? undefined : JSON.parse(buf.toString('utf8', span.start, span.end))
}

function present(buf: Buffer, span: Span | undefined): boolean {
  return span !== undefined && !(span.end - span.start === 4 && buf.toString('latin1', span.start, span.end) === 'null')
}

function bodyError(raw: Buffer): CortexError {
  let parsed: unknown
  try {
    parsed = JSON.parse(raw.toString('utf8'))
  } catch (err) {
    return new CortexError('invalid_json', `request body is not valid JSON: ${(err as Error).message}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return new CortexError('invalid_request', 'request body must be a JSON object')
  }
  // Unreachable unless the scanner is stricter than JSON.parse somewhere; fail loudly rather than guess.
  throw new Error('request body scanner rejected a body that JSON.parse accepts')
}

/**
 * The largest output the engine may produce for this request: the largest cap, for each of the choices it generates
 * (`n`, or `best_of` when larger). A cap of the wrong type is refused, naming it, rather
 * than read as "no cap" (which engines may read differently); a negative one is llama.cpp's "until the context is
 * full", so no cap.
 */
function outputAsk(raw: Buffer, m: Map<string, Span>): OutputAsk {
  let cap: number | null = null
  let uncapped = false
  for (const name of OUTPUT_CAPS) {
    const value = memberValue(raw, m.get(name))
    if (value === undefined || value === null) continue
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new CortexError('invalid_request', `"${name}" must be a number of tokens`, { param: name })
    }
    if (value < 0) uncapped = true
    else cap = Math.max(cap ?? 0, Math.ceil(value))
  }
  // `best_of` (completions, vLLM): the engine generates that many and returns the best n.
  const [n, bestOf] = (['n', 'best_of'] as const).map((name) => {
    const value = memberValue(raw, m.get(name)) ?? 1
    if (!Number.isInteger(value) || (value as number) < 1) {
      throw new CortexError('invalid_request', `"${name}" must be a whole number of choices, 1 or more`, { param: name })
    }
    return value as number
  })
  return { cap: uncapped ? null : cap, n: Math.max(n!, bestOf!) }
}

/**
 * The prompts in a `prompt` value: a list of strings or of token lists is a batch, one answer each (OpenAI's
 * completions API, llama-server and vLLM alike); a string or one list of token ids is one prompt.
 */
function promptCount(buf: Buffer, span: Span | undefined): number {
  if (span === undefined || buf[span.start] !== 0x5b) return 1
  let i = skipWhitespace(buf, span.start + 1)
  if (buf[i] !== QUOTE && buf[i] !== 0x5b) return 1
  let count = 0
  while (i < span.end) {
    const end = valueEnd(buf, i)
    if (end < 0) break
    count++
    i = skipWhitespace(buf, end)
    if (buf[i] !== 0x2c) break
    i = skipWhitespace(buf, i + 1)
  }
  return Math.max(count, 1)
}

/**
 * The output a request's tpm reservation counts: none for an endpoint that generates nothing (embeddings, token
 * counts), else its cap times `n`, for each prompt of a batch — what the engine will produce, however it is asked.
 */
export function reservedOutput(fields: RequestFields, endpoint: Pick<Endpoint, 'generates'>): OutputAsk {
  if (endpoint.generates === false) return { cap: 0, n: 1 }
  return { cap: fields.output.cap, n: fields.output.n * fields.prompts }
}

/** Reads the routing fields of an inference body without parsing the whole of it. Throws invalid_json / invalid_request. */
export function readRequest(raw: Buffer): RequestFields {
  const scan = scanObject(raw, REQUEST_KEYS)
  if (scan === null) throw bodyError(raw)
  if (scan.repeated !== null) {
    throw new CortexError('duplicate_member', `the body has "${scan.repeated}" more than once; send it once`, {
      param: scan.repeated,
    })
  }
  const m = scan.members
  let values: Omit<RequestFields, 'output' | 'prompts' | 'has' | 'scan'>
  try {
    values = {
      model: memberValue(raw, m.get('model')),
      stream: memberValue(raw, m.get('stream')),
      streamOptions: memberValue(raw, m.get('stream_options')),
    }
  } catch {
    // A value the lenient walk let through but JSON.parse rejects, e.g. `"model": "\x"` or `"stream_options": {"a": tru}`.
    throw bodyError(raw)
  }
  let output: OutputAsk
  try {
    output = outputAsk(raw, m)
  } catch (err) {
    if (err instanceof CortexError) throw err
    throw bodyError(raw)
  }
  return {
    ...values,
    output,
    prompts: promptCount(raw, m.get('prompt')),
    has: {
      messages: present(raw, m.get('messages')),
      prompt: present(raw, m.get('prompt')),
      input: present(raw, m.get('input')),
    },
    scan,
  }
}
