import { describe, expect, it } from 'vitest'
import { modelDefinition } from '../contract/model.test-support.js'
import { cacheKey, revision } from './cache-key.js'
import { convertible, streamToWhole, wholeToStream } from './cache-shape.js'

const parts: { revision: string; org: string | null; endpoint: string } = {
  revision: 'r1',
  org: null,
  endpoint: '/chat/completions',
}
const key = (body: unknown, headers = {}, p = parts) => cacheKey(Buffer.from(JSON.stringify(body)), headers, p)
const messages = [{ role: 'user', content: 'hi' }]

describe('cacheKey', () => {
  it('is given only to deterministic requests (temperature 0, a seed) or forced ones', () => {
    expect(key({ model: 'm', messages, temperature: 0 })).toMatch(/^[0-9a-f]{64}$/)
    expect(key({ model: 'm', messages, seed: 4 })).not.toBeNull()
    expect(key({ model: 'm', messages })).toBeNull()
    expect(key({ model: 'm', messages, temperature: 0.2, seed: null })).toBeNull()
    expect(key({ model: 'm', messages }, { 'x-cortex-cache': 'force' })).not.toBeNull()
  })

  it('ignores stream, stream_options and member order, but not anything that changes the answer', () => {
    const base = key({ model: 'm', messages, temperature: 0 })
    expect(key({ temperature: 0, stream: true, stream_options: { include_usage: true }, messages, model: 'm' })).toBe(base)
    expect(key({ model: 'm', messages, temperature: 0, max_tokens: 5 })).not.toBe(base)
    expect(key({ model: 'm', messages: [{ role: 'user', content: 'ho' }], temperature: 0 })).not.toBe(base)
    expect(key({ model: 'm', messages, temperature: 0 }, {}, { ...parts, org: 'org_a' })).not.toBe(base)
    expect(key({ model: 'm', messages, temperature: 0 }, {}, { ...parts, endpoint: '/completions' })).not.toBe(base)
  })

  it('revision changes with what the engine is told, not with how Cortex runs it', () => {
    const def = modelDefinition()
    expect(revision(modelDefinition({ ttlMs: 5000, pinned: true }))).toBe(revision(def))
    expect(revision(modelDefinition({ args: ['-c', '512'] }))).not.toBe(revision(def))
    expect(revision(modelDefinition({ source: '/models/other.gguf' }))).not.toBe(revision(def))
  })
})

const whole = {
  id: 'c1',
  object: 'chat.completion',
  created: 5,
  model: 'engine-name',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 't1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
      },
      finish_reason: 'tool_calls',
    },
  ],
  usage: { prompt_tokens: 11, completion_tokens: 6, total_tokens: 17 },
}

describe('answers in the other shape', () => {
  it('a whole chat answer with a tool call streams as chunks that add up to it again', () => {
    const stream = wholeToStream(Buffer.from(JSON.stringify(whole)), 'asked', true)
    const text = stream.toString()
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true)
    expect(text).toContain('"tool_calls":[{"index":0,"id":"t1"')
    const back = JSON.parse(streamToWhole(stream, 'asked', { promptTokens: 11, completionTokens: 6 }).toString()) as unknown
    expect(back).toEqual({ ...whole, model: 'asked' })
  })

  it('completions text is gathered across chunks, and usage is left out of a stream that did not ask', () => {
    const chunk = (text: string, finish: string | null) =>
      `data: ${JSON.stringify({ id: 'x', object: 'text_completion', created: 1, model: 'e', choices: [{ index: 0, text, finish_reason: finish }] })}\n\n`
    const stream = Buffer.from(chunk('Hel', null) + chunk('lo', 'length') + 'data: [DONE]\n\n')
    const gathered = JSON.parse(streamToWhole(stream, 'asked', null).toString()) as Record<string, unknown>
    expect(gathered).toEqual({
      id: 'x',
      object: 'text_completion',
      created: 1,
      model: 'asked',
      choices: [{ index: 0, text: 'Hello', finish_reason: 'length' }],
    })
    const again = wholeToStream(Buffer.from(JSON.stringify({ ...gathered, usage: whole.usage })), 'asked', false).toString()
    expect(again).not.toContain('usage')
  })

  it('only chat and completions answers change shape; others are given only as they were kept', () => {
    const sse = {
      kind: 'sse' as const,
      contentType: 'text/event-stream',
      body: Buffer.alloc(0),
      usage: null,
      upstreamModel: null,
    }
    expect(convertible(sse, false, '/chat/completions')).toBe(true)
    expect(convertible(sse, true, '/messages')).toBe(true)
    expect(convertible(sse, false, '/messages')).toBe(false)
    expect(convertible({ ...sse, kind: 'json' }, true, '/responses')).toBe(false)
  })
})
