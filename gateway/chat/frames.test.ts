import { describe, expect, it } from 'vitest'
import { FrameReader } from './frames.js'

const frame = (delta: Record<string, unknown>) => `data: ${JSON.stringify({ choices: [{ index: 0, delta }] })}\n\n`

describe('FrameReader', () => {
  it('reads content and reasoning deltas, skipping role-only, usage and [DONE] frames', () => {
    const reader = new FrameReader()
    const text =
      frame({ role: 'assistant', content: null }) +
      frame({ reasoning_content: 'think' }) +
      frame({ content: 'Hel' }) +
      frame({ content: 'lo' }) +
      `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } })}\n\n` +
      'data: [DONE]\n\n'
    expect(reader.push(Buffer.from(text))).toEqual([{ reasoning: 'think' }, { content: 'Hel' }, { content: 'lo' }])
  })

  it('holds a frame split across chunks, even inside a multi-byte character, and reads CRLF frames', () => {
    const reader = new FrameReader()
    const bytes = Buffer.from(frame({ content: 'é' }).replace('\n\n', '\r\n\r\n'))
    const cut = bytes.indexOf(Buffer.from('é')) + 1
    expect(reader.push(bytes.subarray(0, cut))).toEqual([])
    expect(reader.push(bytes.subarray(cut))).toEqual([{ content: 'é' }])
  })

  it('reads the error frame that ends a broken stream', () => {
    const reader = new FrameReader()
    const error = { error: { message: 'model "tiny" (replica 0) could not be reached', code: 'upstream_unreachable' } }
    expect(reader.push(Buffer.from(frame({ content: 'par' }) + `data: ${JSON.stringify(error)}\n\n`))).toEqual([
      { content: 'par' },
      { error: 'model "tiny" (replica 0) could not be reached' },
    ])
  })

  it('ignores comments and frames that are not JSON', () => {
    expect(new FrameReader().push(Buffer.from(': keep-alive\n\ndata: nope\n\n'))).toEqual([])
  })
})
