import type { Dialect } from './dialects/types.js'
import type { Usage } from './usage.js'

export interface SseOptions {
  /** How the stream's events carry output and usage. */
  dialect: Dialect
  /** The client did not ask for usage (we did): drop the `choices: []` usage chunk the gateway asked for. Usage the
   *  engine sends unasked (llama-server's completions put it on the last chunk) is the client's, and stays. */
  hideUsage: boolean
  /** A remote's upstreamModel in `from`, the name the client sent in `to`. */
  renameModel?: { from: string; to: string }
}

const LF = 0x0a
const CR = 0x0d
const EMPTY = Buffer.alloc(0)
const USAGE_KEY = Buffer.from('"usage"')

type Verdict = 'keep' | 'drop' | Buffer

/**
 * Passes an SSE stream through frame by frame: complete frames are returned as soon as they arrive,
 * byte-identical unless one must change; only a partial frame at the end of a chunk is held back.
 * Frames are parsed only while waiting for the first token and when they mention usage (or the
 * upstream model name, for renames); every other frame costs one substring search.
 */
export class SseRelay {
  /** The last usage the stream reported (vLLM's continuous stats report a running total). */
  usage: Usage | null = null
  /** True once a frame carrying generated content or a tool call has been returned. */
  sawToken = false
  private tail: Buffer | null = null
  private delimiter: Buffer | null = null
  private readonly renameKey: Buffer | null

  constructor(private readonly opts: SseOptions) {
    this.renameKey = opts.renameModel ? Buffer.from(JSON.stringify(opts.renameModel.from)) : null
  }

  /** The bytes to send now for this chunk (possibly none). */
  push(chunk: Buffer): Buffer {
    const buf = this.tail === null ? chunk : Buffer.concat([this.tail, chunk])
    this.tail = null
    if (this.delimiter === null) {
      const nl = buf.indexOf(LF)
      if (nl < 0) return this.hold(buf, 0)
      // Engines end lines with LF; CRLF is allowed by the SSE spec and decided once, from the first line.
      this.delimiter = Buffer.from(buf[nl - 1] === CR ? '\r\n\r\n' : '\n\n')
    }
    const parts: Buffer[] = []
    let emitFrom = 0
    let pos = 0
    for (let end = buf.indexOf(this.delimiter, pos); end >= 0; end = buf.indexOf(this.delimiter, pos)) {
      const frameEnd = end + this.delimiter.length
      const verdict = this.inspect(buf.subarray(pos, frameEnd))
      if (verdict !== 'keep') {
        parts.push(buf.subarray(emitFrom, pos))
        if (verdict !== 'drop') parts.push(verdict)
        emitFrom = frameEnd
      }
      pos = frameEnd
    }
    if (pos < buf.length) this.hold(buf, pos)
    if (parts.length === 0) return pos === buf.length ? buf : buf.subarray(0, pos)
    parts.push(buf.subarray(emitFrom, pos))
    return Buffer.concat(parts)
  }

  /** What is left when the upstream ends: an unterminated last frame, passed through as it is. */
  end(): Buffer {
    const rest = this.tail ?? EMPTY
    this.tail = null
    return rest
  }

  private hold(buf: Buffer, from: number): Buffer {
    // Copy: the tail must not pin a large chunk in memory.
    this.tail = Buffer.from(buf.subarray(from))
    return EMPTY
  }

  private inspect(frame: Buffer): Verdict {
    const mentionsUsage = frame.indexOf(USAGE_KEY) >= 0
    const mentionsModel = this.renameKey !== null && frame.indexOf(this.renameKey) >= 0
    if (this.sawToken && !mentionsUsage && !mentionsModel) return 'keep'
    const text = frame.toString('utf8')
    const data = dataSpan(text)
    if (data === null) return 'keep'
    let event: Record<string, unknown>
    try {
      const parsed: unknown = JSON.parse(text.slice(data.start, data.end))
      if (typeof parsed !== 'object' || parsed === null) return 'keep'
      event = parsed as Record<string, unknown>
    } catch {
      // `[DONE]`, or whatever else the engine sends: not ours to judge, it passes through.
      return 'keep'
    }
    const { dialect } = this.opts
    if (!this.sawToken) this.sawToken = dialect.carriesToken(event)
    if (mentionsUsage) {
      this.usage = dialect.usage(event, this.usage)
      if (this.opts.hideUsage && event.usage !== undefined && Array.isArray(event.choices) && event.choices.length === 0) {
        return 'drop'
      }
    }
    const rename = this.opts.renameModel
    if (rename === undefined || event.model !== rename.from) return 'keep'
    event.model = rename.to
    return Buffer.from(text.slice(0, data.start) + JSON.stringify(event) + text.slice(data.end))
  }
}

/** The value of the frame's single `data:` line; null when it has none or several (multi-line data passes untouched). */
function dataSpan(text: string): { start: number; end: number } | null {
  let found: { start: number; end: number } | null = null
  let lineStart = 0
  while (lineStart < text.length) {
    let lineEnd = text.indexOf('\n', lineStart)
    if (lineEnd < 0) lineEnd = text.length
    const contentEnd = text.charCodeAt(lineEnd - 1) === CR ? lineEnd - 1 : lineEnd
    if (text.startsWith('data:', lineStart)) {
      if (found !== null) return null
      const start = lineStart + (text.charCodeAt(lineStart + 5) === 0x20 ? 6 : 5)
      found = { start, end: contentEnd }
    }
    lineStart = lineEnd + 1
  }
  return found
}
