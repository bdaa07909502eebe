import { describe, expect, it } from 'vitest'
import { anthropic } from './dialects/anthropic.js'
import { openai } from './dialects/openai.js'
import { SseRelay, type SseOptions } from './sse.js'
import { ResponseEnds, usageFromTail } from './usage.js'

const role =
  'data: {"id":"c1","object":"chat.completion.chunk","model":"up/m","choices":[{"index":0,"delta":{"role":"assistant","content":null}}]}\n\n'
const hello = 'data: {"id":"c1","model":"up/m","choices":[{"index":0,"delta":{"content":"Hel\\"usage\\"lo"}}]}\n\n'
const finish = 'data: {"id":"c1","model":"up/m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
const usageOnly =
  'data: {"id":"c1","model":"up/m","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}}\n\n'
const done = 'data: [DONE]\n\n'

/** Feeds `chunks` and returns what the client would receive, plus the relay. */
function relay(chunks: string[], opts: Omit<SseOptions, 'dialect'> & Partial<SseOptions> = { hideUsage: false }) {
  const r = new SseRelay({ dialect: openai, ...opts })
  const out = chunks.map((c) => r.push(Buffer.from(c)).toString())
  return { out: out.join('') + r.end().toString(), perChunk: out, r }
}

describe('SseRelay', () => {
  it('passes frames through byte for byte, one write per arriving frame', () => {
    const frames = [role, hello, finish, usageOnly, done]
    const { perChunk, r } = relay(frames)
    expect(perChunk).toEqual(frames)
    expect(r.usage).toEqual({ promptTokens: 7, completionTokens: 2 })
    expect(r.sawToken).toBe(true)
  })

  it('returns the very chunk it was given when nothing changes', () => {
    const r = new SseRelay({ dialect: openai, hideUsage: false })
    const chunk = Buffer.from(role + hello)
    expect(r.push(chunk)).toBe(chunk)
  })

  it('drops the usage-only chunk the client did not ask for, and still reads it', () => {
    const { out, r } = relay([role, hello, finish, usageOnly, done], { hideUsage: true })
    expect(out).toBe(role + hello + finish + done)
    expect(r.usage).toEqual({ promptTokens: 7, completionTokens: 2 })
  })

  it("keeps usage that rides on the finish chunk: the engine sent it unasked (llama-server's completions)", () => {
    const finishWithUsage =
      'data: {"choices":[{"index":0,"text":"","finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1},"timings":{}}\n\n'
    const { out, r } = relay([hello, finishWithUsage, done], { hideUsage: true })
    expect(out).toBe(hello + finishWithUsage + done)
    expect(r.usage).toEqual({ promptTokens: 3, completionTokens: 1 })
  })

  it('reads the Responses API: output deltas and the usage inside response.completed', () => {
    const created = 'event: response.created\ndata: {"type":"response.created","response":{"id":"r1","usage":null}}\n\n'
    const delta = 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"Hi"}\n\n'
    const completed =
      'event: response.completed\ndata: {"type":"response.completed","response":{"id":"r1","usage":{"input_tokens":11,"output_tokens":4}}}\n\n'
    const { out, r } = relay([created], { hideUsage: false })
    expect(r.sawToken).toBe(false)
    const rest = relay([created, delta, completed], { hideUsage: false })
    expect(out).toBe(created)
    expect(rest.out).toBe(created + delta + completed)
    expect(rest.r.sawToken).toBe(true)
    expect(rest.r.usage).toEqual({ promptTokens: 11, completionTokens: 4 })
  })

  it("reads Anthropic's prompt tokens from message_start and the output's from message_delta", () => {
    const start =
      'event: message_start\ndata: {"type":"message_start","message":{"id":"m1","usage":{"input_tokens":9,"output_tokens":1}}}\n\n'
    const delta =
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n'
    const end =
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}}\n\n'
    const { out, r } = relay([start, delta, end], { dialect: anthropic, hideUsage: false })
    expect(out).toBe(start + delta + end)
    expect(r.sawToken).toBe(true)
    expect(r.usage).toEqual({ promptTokens: 9, completionTokens: 5 })
  })

  it('gives the same output however the stream is split into chunks', () => {
    const stream = role + ': keep-alive\n\n' + hello + finish + usageOnly + done
    const whole = relay([stream], { hideUsage: true }).out
    expect(whole).toBe(role + ': keep-alive\n\n' + hello + finish + done)
    for (let a = 1; a < stream.length; a += 7) {
      for (const b of [a + 1, a + 13, a + 200]) {
        const { out, r } = relay([stream.slice(0, a), stream.slice(a, b), stream.slice(b)], { hideUsage: true })
        expect(out, `split at ${a},${b}`).toBe(whole)
        expect(r.usage).toEqual({ promptTokens: 7, completionTokens: 2 })
      }
    }
  })

  it('splits CRLF streams on blank CRLF lines', () => {
    const crlf = [role, hello, usageOnly, done].map((f) => f.replace(/\n/g, '\r\n'))
    const { out } = relay([crlf.join('').slice(0, 50), crlf.join('').slice(50)], { hideUsage: true })
    expect(out).toBe(crlf[0]! + crlf[1]! + crlf[3]!)
  })

  it('notes the first token only on a frame that carries content', () => {
    const r = new SseRelay({ dialect: openai, hideUsage: false })
    r.push(Buffer.from(role))
    expect(r.sawToken).toBe(false)
    r.push(Buffer.from('data: {"choices":[{"index":0,"text":"x"}]}\n\n'))
    expect(r.sawToken).toBe(true)
  })

  it('renames the upstream model back to the name the client sent', () => {
    const { out } = relay([role, hello], { hideUsage: false, renameModel: { from: 'up/m', to: 'team' } })
    expect(out).toBe(role.replace('"up/m"', '"team"') + hello.replace('"up/m"', '"team"'))
  })

  it('passes an unterminated last frame and non-JSON data through', () => {
    expect(relay(['data: not json\n\n', 'data: {"choices":[]'], { hideUsage: true }).out).toBe(
      'data: not json\n\ndata: {"choices":[]',
    )
  })

  it('writes an OpenAI error frame', () => {
    expect(JSON.parse(openai.errorFrame('upstream_unreachable', 'gone').toString().slice(6))).toEqual({
      error: { message: 'gone', type: 'server_error', param: null, code: 'upstream_unreachable' },
    })
  })

  it("writes an Anthropic error event in Anthropic's envelope", () => {
    const frame = anthropic.errorFrame('upstream_unreachable', 'gone').toString()
    expect(frame.startsWith('event: error\ndata: ')).toBe(true)
    expect(JSON.parse(frame.slice('event: error\ndata: '.length))).toEqual({
      type: 'error',
      error: { type: 'api_error', message: 'gone' },
    })
  })
})

describe('usageFromTail', () => {
  it('reads the top-level usage at the end of a response', () => {
    const body = JSON.stringify({
      choices: [{ message: { content: '"usage": {"prompt_tokens": 99}' } }],
      usage: { prompt_tokens: 5, completion_tokens: 6 },
    })
    expect(usageFromTail(Buffer.from(body))).toEqual({ promptTokens: 5, completionTokens: 6 })
  })

  it('reads embeddings and Anthropic usage, and null when there is none', () => {
    expect(usageFromTail(Buffer.from('{"data":[],"usage" : {"prompt_tokens":4,"total_tokens":4}}'))).toEqual({
      promptTokens: 4,
      completionTokens: null,
    })
    expect(usageFromTail(Buffer.from('{"usage":{"input_tokens":1,"output_tokens":2}}'))).toEqual({
      promptTokens: 1,
      completionTokens: 2,
    })
    expect(usageFromTail(Buffer.from('{"error":{"message":"bad"}}'))).toBeNull()
    expect(usageFromTail(Buffer.from('"usage"'))).toBeNull()
  })

  it('finds it at the end of a large response without keeping the middle', () => {
    const ends = new ResponseEnds(1024)
    ends.push(Buffer.from('{"data":[' + '1,'.repeat(100_000)))
    for (let i = 0; i < 100; i++) ends.push(Buffer.from('2,'.repeat(100)))
    ends.push(Buffer.from('3],"usage":{"prompt_tokens":8}}'))
    expect(ends.usage()).toEqual({ promptTokens: 8, completionTokens: null })
    expect(() => ends.whole()).toThrow(/middle/)
  })

  it("finds it at the start of a large response (llama-server's embeddings put usage before data)", () => {
    const ends = new ResponseEnds(1024)
    ends.push(Buffer.from('{"model":"embed","object":"list","usage":{"prompt_tokens":7,"total_tokens":7},"data":['))
    for (let i = 0; i < 200; i++) ends.push(Buffer.from('0.125,'.repeat(100)))
    ends.push(Buffer.from('0.5]}'))
    expect(ends.usage()).toEqual({ promptTokens: 7, completionTokens: null })
  })
})
