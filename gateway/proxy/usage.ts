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
 * The `usage` object of a JSON response from its last bytes: engines put it after `choices`/`data`,
 * so the end of even a large embeddings response holds it. The last `"usage"` key wins — inside a
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

/** Keeps the last `limit` bytes of a response (whole chunks, so a little more), for usageFromTail. */
export class Tail {
  private chunks: Buffer[] = []
  private size = 0
  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.size += chunk.length
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.limit) this.size -= this.chunks.shift()!.length
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks, this.size)
  }
}
