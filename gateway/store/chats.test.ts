import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { pathTo, siblings } from '../chat/tree.js'
import { createChatRepo, ftsQuery, type ChatRepo } from './chats.js'
import { migrate } from './migrations.js'

let db: Database.Database
let chats: ChatRepo
let clock = Date.UTC(2025, 5, 1)
beforeEach(() => {
  clock = Date.UTC(2025, 5, 1)
  db = new Database(':memory:')
  db.pragma('foreign_keys = ON')
  migrate(db, { dataDir: '/nonexistent', now: () => clock })
  chats = createChatRepo(db, () => clock)
})
afterEach(() => db.close())

const answer = (chatId: string, parentId: string, content: string) =>
  chats.addMessage({ chatId, parentId, role: 'assistant', content, state: 'complete', model: 'tiny', params: {} })

describe('ChatRepo', () => {
  it('keeps conversations per user: another user can neither see, change nor delete them', () => {
    const mine = chats.create('usr_a', { title: 'Mine', model: 'tiny', params: { temperature: 0.2 } })
    expect(chats.get('usr_a', mine.id)).toEqual(mine)
    expect(chats.get('usr_b', mine.id)).toBeUndefined()
    expect(chats.list('usr_b')).toEqual([])
    expect(chats.update('usr_b', mine.id, { title: 'Theirs' })).toBeUndefined()
    expect(chats.remove('usr_b', mine.id)).toBe(false)
    expect(chats.get('usr_a', mine.id)?.title).toBe('Mine')
  })

  it('lists newest first, a new message making its conversation the newest', () => {
    const first = chats.create('u', { title: 'first', model: 'tiny', params: {} })
    clock += 1000
    const second = chats.create('u', { title: 'second', model: 'tiny', params: {} })
    expect(chats.list('u').map((c) => c.title)).toEqual(['second', 'first'])
    clock += 1000
    chats.addMessage({ chatId: first.id, parentId: null, role: 'user', content: 'hi', state: 'complete' })
    expect(chats.list('u').map((c) => c.id)).toEqual([first.id, second.id])
  })

  it('renames and replaces the parameters whole', () => {
    const chat = chats.create('u', { title: 'a', model: 'tiny', params: { temperature: 1, seed: 3 } })
    const changed = chats.update('u', chat.id, { title: 'b', params: { top_p: 0.5 } })
    expect(changed).toMatchObject({ title: 'b', model: 'tiny', params: { top_p: 0.5 } })
    expect(chats.get('u', chat.id)).toEqual(changed)
  })

  it('keeps both branches of an edit and of a regenerate', () => {
    const chat = chats.create('u', { title: 't', model: 'tiny', params: {} })
    const q1 = chats.addMessage({ chatId: chat.id, parentId: null, role: 'user', content: 'one', state: 'complete' })
    const a1 = answer(chat.id, q1.id, 'answer one')
    const q2 = chats.addMessage({ chatId: chat.id, parentId: a1.id, role: 'user', content: 'two', state: 'complete' })
    const a2 = answer(chat.id, q2.id, 'answer two')
    // An edit of the second question: a sibling of q2 under a1; a regenerate of it: a sibling of a2 under q2.
    const q2b = chats.addMessage({ chatId: chat.id, parentId: a1.id, role: 'user', content: 'two, edited', state: 'complete' })
    const a2b = answer(chat.id, q2b.id, 'answer to the edit')
    const a2c = answer(chat.id, q2.id, 'answer two again')
    const all = chats.messages(chat.id)
    expect(all).toHaveLength(7)
    expect(siblings(all, a1.id).map((m) => m.content)).toEqual(['two', 'two, edited'])
    expect(siblings(all, q2.id).map((m) => m.content)).toEqual(['answer two', 'answer two again'])
    expect(pathTo(all, a2.id).map((m) => m.content)).toEqual(['one', 'answer one', 'two', 'answer two'])
    expect(pathTo(all, a2b.id).map((m) => m.content)).toEqual(['one', 'answer one', 'two, edited', 'answer to the edit'])
    expect(pathTo(all, a2c.id).map((m) => m.id)).toEqual([q1.id, a1.id, q2.id, a2c.id])
    expect(pathTo(all, 'msg_unknown')).toEqual([])
  })

  it('saves an answer as it streams and its figures when it ends', () => {
    const chat = chats.create('u', { title: 't', model: 'tiny', params: {} })
    const q = chats.addMessage({ chatId: chat.id, parentId: null, role: 'user', content: 'q', state: 'complete' })
    const a = chats.addMessage({ chatId: chat.id, parentId: q.id, role: 'assistant', content: '', state: 'streaming' })
    chats.updateMessage(a.id, { content: 'partial' })
    expect(chats.messages(chat.id)[1]).toMatchObject({ content: 'partial', state: 'streaming', ttftMs: null })
    chats.updateMessage(a.id, {
      content: 'partial and the rest',
      state: 'complete',
      requestId: 'req-1',
      ttftMs: 12.5,
      totalMs: 112.5,
      promptTokens: 9,
      completionTokens: 20,
    })
    expect(chats.messages(chat.id)[1]).toMatchObject({
      content: 'partial and the rest',
      state: 'complete',
      requestId: 'req-1',
      ttftMs: 12.5,
      totalMs: 112.5,
      promptTokens: 9,
      completionTokens: 20,
    })
  })

  it('marks answers a stopped gateway left streaming as cut off, keeping what they had', () => {
    const chat = chats.create('u', { title: 't', model: 'tiny', params: {} })
    const q = chats.addMessage({ chatId: chat.id, parentId: null, role: 'user', content: 'q', state: 'complete' })
    const a = chats.addMessage({ chatId: chat.id, parentId: q.id, role: 'assistant', content: 'half', state: 'streaming' })
    expect(chats.cutOffInterrupted()).toBe(1)
    expect(chats.messages(chat.id).find((m) => m.id === a.id)).toMatchObject({
      content: 'half',
      state: 'cut_off',
      error: 'the gateway stopped while this answer was streaming',
    })
    expect(chats.cutOffInterrupted()).toBe(0)
  })

  it('searches the user’s own messages only, by words and a prefix, and forgets deleted ones', () => {
    const mine = chats.create('u', { title: 'Mine', model: 'tiny', params: {} })
    const theirs = chats.create('v', { title: 'Theirs', model: 'tiny', params: {} })
    const q = chats.addMessage({
      chatId: mine.id,
      parentId: null,
      role: 'user',
      content: 'tell me about zebras',
      state: 'complete',
    })
    const a = answer(mine.id, q.id, 'Zebras have stripes; "quoted" NEAR text OR more')
    chats.addMessage({ chatId: theirs.id, parentId: null, role: 'user', content: 'zebras again', state: 'complete' })
    expect(
      chats
        .search('u', 'zebra', 10)
        .map((h) => h.messageId)
        .sort(),
    ).toEqual([q.id, a.id].sort())
    expect(chats.search('u', 'stripes zeb', 10)).toEqual([
      {
        chatId: mine.id,
        chatTitle: 'Mine',
        messageId: a.id,
        role: 'assistant',
        snippet: expect.stringContaining('stripes'),
        createdAt: clock,
      },
    ])
    // Query syntax is text: quotes, NEAR and OR find the words, never throw.
    expect(chats.search('u', '"quoted" NEAR OR', 10).map((h) => h.messageId)).toEqual([a.id])
    expect(chats.search('u', '   ', 10)).toEqual([])
    chats.updateMessage(a.id, { content: 'no longer about that' })
    expect(chats.search('u', 'stripes', 10)).toEqual([])
    expect(chats.remove('u', mine.id)).toBe(true)
    expect(chats.search('u', 'zebras', 10)).toEqual([])
    expect(chats.messages(mine.id)).toEqual([])
    expect(chats.search('v', 'zebras', 10)).toHaveLength(1)
  })

  it('deletes every conversation of a user', () => {
    chats.create('u', { title: 'a', model: 'tiny', params: {} })
    chats.create('u', { title: 'b', model: 'tiny', params: {} })
    chats.create('v', { title: 'c', model: 'tiny', params: {} })
    expect(chats.removeAllOf('u')).toBe(2)
    expect(chats.list('u')).toEqual([])
    expect(chats.list('v')).toHaveLength(1)
  })
})

describe('ftsQuery', () => {
  it.each([
    ['zebra', '"zebra"*'],
    ['two words', '"two" "words"*'],
    ['say "hi"', '"say" """hi"""*'],
    ['  ', null],
  ])('%j → %j', (q, expected) => expect(ftsQuery(q)).toBe(expected))
})
