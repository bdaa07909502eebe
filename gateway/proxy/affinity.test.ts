import { describe, expect, it } from 'vitest'
import { affinityKey } from './affinity.js'
import { readRequest } from './body.js'

const key = (body: unknown, headers = {}) => {
  const raw = Buffer.from(JSON.stringify(body))
  return affinityKey(raw, readRequest(raw).scan.members.get('messages'), headers)
}
const sys = { role: 'system', content: 'You are a coding assistant.' }
const turn1 = [sys, { role: 'user', content: 'Fix the bug in main.ts' }]
const turn2 = [...turn1, { role: 'assistant', content: 'Here is a fix…' }, { role: 'user', content: 'Now add a test' }]

describe('affinityKey', () => {
  it('gives every turn of a conversation the same key, and another conversation another', () => {
    const a = key({ model: 'm', messages: turn1 })
    expect(a).toMatch(/^p:/)
    expect(key({ model: 'm', messages: turn2 })).toBe(a)
    expect(key({ model: 'm', messages: [sys, { role: 'user', content: 'Write a poem' }] })).not.toBe(a)
    // Without a system prompt, the first message is the conversation's opening.
    const plain = [{ role: 'user', content: 'hi' }]
    expect(
      key({ model: 'm', messages: [...plain, { role: 'assistant', content: 'hello' }, { role: 'user', content: 'more' }] }),
    ).toBe(key({ model: 'm', messages: plain }))
  })

  it('a shared system prompt alone is no conversation: it takes the message after it', () => {
    expect(key({ model: 'm', messages: [sys, { role: 'developer', content: 'x' }] })).toBeUndefined()
  })

  it('the client’s x-session-id wins; no messages (completions, embeddings) gives no key', () => {
    expect(key({ model: 'm', messages: turn1 }, { 'x-session-id': 'abc' })).toBe('s:abc')
    expect(key({ model: 'm', prompt: 'hi' })).toBeUndefined()
    expect(key({ model: 'm', messages: [] })).toBeUndefined()
  })

  it('hashes at most a few KB of a huge opening, and still tells apart two that differ only in length', () => {
    const long = 'x'.repeat(1_000_000)
    const a = key({ model: 'm', messages: [{ role: 'user', content: long }] })
    const b = key({ model: 'm', messages: [{ role: 'user', content: `${long}y` }] })
    expect(a).toBeDefined()
    expect(a).not.toBe(b)
  })
})
