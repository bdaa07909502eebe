import { describe, expect, it } from 'vitest'
import { modelDefinition } from '../contract/model.test-support.js'
import { FakeRegistry } from '../http/fakes.test-support.js'
import type { ChatRecord, MessageRecord } from '../store/chats.js'
import { exportChat } from './export.js'
import { checkFits, DEFAULT_TITLE, requestBody, titleFrom } from './service.js'

function message(over: Partial<MessageRecord>): MessageRecord {
  return {
    id: 'm',
    chatId: 'c',
    parentId: null,
    role: 'user',
    content: '',
    reasoning: null,
    model: null,
    params: null,
    state: 'complete',
    error: null,
    requestId: null,
    ttftMs: null,
    totalMs: null,
    promptTokens: null,
    completionTokens: null,
    createdAt: 0,
    updatedAt: 0,
    ...over,
  }
}

describe('titleFrom', () => {
  it.each([
    ['Plan a trip to Lisbon\nwith kids', 'Plan a trip to Lisbon'],
    ['   \n  ', DEFAULT_TITLE],
    ['x'.repeat(80), `${'x'.repeat(59)}…`],
  ])('%j → %j', (content, title) => expect(titleFrom(content)).toBe(title))
})

describe('requestBody', () => {
  it('puts the system prompt first, leaves out empty failed answers, and asks for a stream with usage', () => {
    const history = [
      message({ role: 'user', content: 'q1' }),
      message({ role: 'assistant', content: '', state: 'failed' }),
      message({ role: 'user', content: 'q1 again' }),
      message({ role: 'assistant', content: 'half', state: 'cut_off' }),
    ]
    const body = requestBody({ params: { system: 'terse', seed: 7, top_p: 0.9 } }, 'tiny', history, 'q2')
    expect(body).toEqual({
      model: 'tiny',
      messages: [
        { role: 'system', content: 'terse' },
        { role: 'user', content: 'q1' },
        { role: 'user', content: 'q1 again' },
        { role: 'assistant', content: 'half' },
        { role: 'user', content: 'q2' },
      ],
      seed: 7,
      top_p: 0.9,
      stream: true,
      stream_options: { include_usage: true },
    })
    expect(requestBody({ params: {} }, 'tiny', history.slice(0, 1), null).messages).toEqual([{ role: 'user', content: 'q1' }])
  })
})

describe('checkFits', () => {
  const registry = new FakeRegistry([modelDefinition({ name: 'tiny' })])
  it('passes what fits the context and refuses the prompt estimate plus max_tokens past it', () => {
    expect(() => checkFits({ registry }, 'tiny', Buffer.alloc(4000), 3096)).not.toThrow()
    expect(() => checkFits({ registry }, 'tiny', Buffer.alloc(4000), 3097)).toThrow(
      expect.objectContaining({
        code: 'context_length_exceeded',
        message:
          'this conversation needs about 4097 tokens (the prompt estimated at 1000 from its size, plus max_tokens 3097), ' +
          'more than model "tiny" holds (a context of 4096 tokens): start a new conversation, shorten the message, or lower max_tokens',
      }),
    )
    expect(() => checkFits({ registry }, 'tiny', Buffer.alloc(20_000), undefined)).toThrow(/about 5000 tokens \(the prompt/)
    // A route or an unknown name is admission's to decide.
    expect(() => checkFits({ registry }, 'no-such-model', Buffer.alloc(100_000), 1)).not.toThrow()
  })
})

describe('exportChat', () => {
  const chat: ChatRecord = {
    id: 'c',
    userId: 'u',
    title: 'Trip: Lisbon / Porto?',
    model: 'tiny',
    params: { system: 'be kind' },
    createdAt: 0,
    updatedAt: 0,
  }
  const messages = [
    message({ id: 'q1', content: 'first' }),
    message({ id: 'a1', parentId: 'q1', role: 'assistant', content: 'old answer', model: 'tiny' }),
    message({
      id: 'a2',
      parentId: 'q1',
      role: 'assistant',
      content: 'new answer',
      reasoning: 'thinking\nhard',
      model: 'tiny',
      state: 'cut_off',
      ttftMs: 20.4,
      totalMs: 1020.4,
      promptTokens: 5,
      completionTokens: 50,
    }),
  ]

  it('writes the branch last written to as Markdown, with its figures', () => {
    const file = exportChat(chat, messages, 'md')
    expect(file.fileName).toBe('Trip-Lisbon-Porto.md')
    expect(file.text).toBe(
      '# Trip: Lisbon / Porto?\n\nModel: tiny\n\n## System\n\nbe kind\n\n## You\n\nfirst\n\n## Assistant\n\n' +
        '> thinking\n> hard\n\nnew answer\n\n_tiny · TTFT 20 ms · 50.0 tok/s · 5 prompt + 50 completion tokens · cut off_\n',
    )
  })

  it('writes every branch as JSON', () => {
    const file = exportChat(chat, messages, 'json')
    expect(file.contentType).toBe('application/json; charset=utf-8')
    const parsed = JSON.parse(file.text) as { messages: Array<{ id: string }>; title: string }
    expect(parsed.title).toBe(chat.title)
    expect(parsed.messages.map((m) => m.id)).toEqual(['q1', 'a1', 'a2'])
  })
})
