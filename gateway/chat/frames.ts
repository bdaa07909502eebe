/** What one OpenAI chat-completion stream frame adds to an answer. */
export interface FrameContent {
  content?: string
  reasoning?: string
  /** The gateway's or the engine's error frame (`data: {"error":…}`) that ends a broken stream. */
  error?: string
}

/**
 * Reads the chat stream the proxy relays (`data: {…}` frames; engines end lines with LF, CRLF is allowed) into the
 * answer's text, reasoning (`reasoning_content`) and a final error. Bytes are decoded as one UTF-8 stream, so a
 * character split across two chunks stays whole.
 */
export class FrameReader {
  private readonly decoder = new TextDecoder()
  private buffer = ''

  push(chunk: Buffer): FrameContent[] {
    this.buffer += this.decoder.decode(chunk, { stream: true })
    const out: FrameContent[] = []
    for (let end = this.frameEnd(); end !== null; end = this.frameEnd()) {
      const frame = this.buffer.slice(0, end.at)
      this.buffer = this.buffer.slice(end.at + end.length)
      const read = readFrame(frame)
      if (read !== null) out.push(read)
    }
    return out
  }

  private frameEnd(): { at: number; length: number } | null {
    const lf = this.buffer.indexOf('\n\n')
    const crlf = this.buffer.indexOf('\r\n\r\n')
    if (lf < 0 && crlf < 0) return null
    if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, length: 4 }
    return { at: lf, length: 2 }
  }
}

function readFrame(frame: string): FrameContent | null {
  const data = frame
    .split(/\r?\n/)
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
    .join('\n')
  if (data === '' || data === '[DONE]') return null
  let event: unknown
  try {
    event = JSON.parse(data)
  } catch {
    return null
  }
  if (typeof event !== 'object' || event === null) return null
  const e = event as { error?: { message?: unknown }; choices?: Array<{ delta?: Record<string, unknown> }> }
  if (e.error !== undefined) return { error: typeof e.error.message === 'string' ? e.error.message : JSON.stringify(e.error) }
  const delta = e.choices?.[0]?.delta
  if (delta === undefined) return null
  const read: FrameContent = {}
  if (typeof delta.content === 'string' && delta.content !== '') read.content = delta.content
  if (typeof delta.reasoning_content === 'string' && delta.reasoning_content !== '') read.reasoning = delta.reasoning_content
  return read.content === undefined && read.reasoning === undefined ? null : read
}
