import { valueEnd } from './body.js'

export interface Usage {
  promptTokens: number | null
  completionTokens: number | null
}

function count(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}

/** OpenAI's `{prompt_tokens, completion_tokens}`, or Anthropic's `{input_tokens, output_tokens}`; null when neither. */
export function toUsage(v: unknown): Usage | null {
  if (typeof v !== 'object' || v === null) return null
  const u = v as Record<string, unknown>
  const usage = {
    promptTokens: count(u.prompt_tokens ?? u.input_tokens),
    completionTokens: count(u.completion_tokens ?? u.output_tokens),
  }
  return usage.promptTokens === null && usage.completionTokens === null ? null : usage
}

const USAGE_KEY = Buffer.from('"usage"')

/**
 * The `usage` object in the given bytes of a JSON response. The last `"usage"` key wins — inside a
 * JSON string the quotes would be escaped, so text never matches.
 */
export function usageFromTail(tail: Buffer): Usage | null {
  for (let at = tail.lastIndexOf(USAGE_KEY); at >= 0; at = at > 0 ? tail.lastIndexOf(USAGE_KEY, at - 1) : -1) {
    let i = at + USAGE_KEY.length
    while (tail[i] === 0x20 || tail[i] === 0x0a || tail[i] === 0x0d || tail[i] === 0x09) i++
    if (tail[i] !== 0x3a) continue
    i++
    while (tail[i] === 0x20 || tail[i] === 0x0a || tail[i] === 0x0d || tail[i] === 0x09) i++
    const end = tail[i] === 0x7b ? valueEnd(tail, i) : -1
    if (end < 0) continue
    try {
      return toUsage(JSON.parse(tail.toString('utf8', i, end)))
    } catch {
      // Not well-formed after all (the walk is lenient inside objects): look for an earlier key.
      continue
    }
  }
  return null
}

/**
 * Keeps the first and the last `limit` bytes of a response (whole chunks, so a little more) to read
 * `usage` from without holding a large body: OpenAI and vLLM put it after `choices`/`data`, but
 * llama-server's embeddings put it before `data`, which can be megabytes long.
 */
export class ResponseEnds {
  private head: Buffer[] = []
  private headSize = 0
  private tail: Buffer[] = []
  private tailSize = 0
  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    if (this.headSize < this.limit) {
      this.head.push(chunk)
      this.headSize += chunk.length
      return
    }
    this.tail.push(chunk)
    this.tailSize += chunk.length
    while (this.tail.length > 1 && this.tailSize - this.tail[0]!.length >= this.limit) this.tailSize -= this.tail.shift()!.length
  }

  /** The whole response, when nothing was dropped (always with an infinite limit). */
  whole(): Buffer {
    if (this.tail.length > 0) throw new Error('ResponseEnds.whole: the middle of the response was not kept')
    return Buffer.concat(this.head, this.headSize)
  }

  usage(): Usage | null {
    return usageFromTail(Buffer.concat(this.tail, this.tailSize)) ?? usageFromTail(Buffer.concat(this.head, this.headSize))
  }
}
