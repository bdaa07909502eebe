import { render, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { createMemoryRouter, RouterProvider } from 'react-router'
import { describe, expect, it, vi } from 'vitest'
import type { ChatDetail, ChatMessageView, ChatStreamEvent } from '../../../../gateway/contract/index.js'
import { useStore } from '../../store/index.js'
import { signInAs, stubFetch } from '../../test/fakes.js'
import { modelView } from '../../test/models.js'
import { Component as Chat } from './index.js'
import { answersBy, branchTo, contextUsed, newestUnder, sendEstimate } from './thread.js'

const msg = (
  id: string,
  parentId: string | null,
  role: 'user' | 'assistant',
  content: string,
  over: Partial<ChatMessageView> = {},
): ChatMessageView => ({
  id,
  parentId,
  role,
  content,
  reasoning: null,
  model: role === 'assistant' ? 'tiny' : null,
  params: null,
  state: 'complete',
  error: null,
  requestId: null,
  figures: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  ...over,
})
const chat = (messages: ChatMessageView[], over: Partial<ChatDetail> = {}): ChatDetail => ({
  id: 'c1',
  title: 'hello',
  model: 'tiny',
  params: {},
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  messages,
  ...over,
})

const renderAt = (path: string) =>
  render(<RouterProvider router={createMemoryRouter([{ path: '/chat/:id?', element: <Chat /> }], { initialEntries: [path] })} />)

/** An answer stream as the gateway writes it. */
const sse = (events: ChatStreamEvent[]) =>
  new Response(events.map(({ type, ...data }) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`).join(''), {
    headers: { 'content-type': 'text/event-stream' },
  })

/**
 * The gateway's chat routes on `messages`, kept as they change: each POST …/messages answered by `answer(body)` as a
 * stream, its user message and finished answer saved. Returns what was sent.
 */
function stubChat(messages: ChatMessageView[], answer: (body: Record<string, unknown>) => ChatStreamEvent[]) {
  const saved = [...messages]
  stubFetch({ 'GET /admin/api/chats': { body: [] }, 'GET /admin/api/chats/c1': () => ({ body: chat(saved) }) })
  const json = globalThis.fetch
  const sent: Array<Record<string, unknown>> = []
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
    if (init?.method === 'POST' && String(input).endsWith('/messages')) {
      const body = JSON.parse(String(init.body)) as Record<string, unknown>
      sent.push(body)
      const events = answer(body)
      for (const e of events) {
        if (e.type === 'started' && e.user) saved.push(e.user)
        if (e.type === 'done') saved.push(e.message)
      }
      return sse(events)
    }
    return json(input, init)
  })
  return sent
}

const branches = [
  msg('u1', null, 'user', 'first question'),
  msg('a1', 'u1', 'assistant', 'old answer'),
  msg('a2', 'u1', 'assistant', 'new answer'),
  msg('u2', 'a2', 'user', 'follow-up'),
  msg('a3', 'u2', 'assistant', 'last'),
]

describe('chat', () => {
  it('shows the newest branch with each answer’s figures, and a person’s markup as text', async () => {
    signInAs('admin')
    const figures = { ttftMs: 120, totalMs: 1120, promptTokens: 30, completionTokens: 50, decodeTokensPerSecond: 50 }
    stubFetch({
      'GET /admin/api/chats': { body: [chat([])] },
      'GET /admin/api/chats/c1': {
        body: chat([
          msg('u1', null, 'user', '<b>hi</b>'),
          msg('a1', 'u1', 'assistant', 'old answer'),
          msg('a2', 'u1', 'assistant', 'new **answer**', { figures }),
        ]),
      },
    })
    renderAt('/chat/c1')
    const answers = await screen.findAllByTestId('message-assistant')
    expect(answers.map((a) => a.querySelector('[data-testid="message-text"]')!.textContent)).toEqual(['new answer'])
    expect(answers[0]!.querySelector('.markdown strong')!.textContent).toBe('answer')
    expect(screen.getByTestId('figures').textContent).toBe('first token 120 ms · 50 tok/s · 30 in · 50 out')
    expect(screen.getByTestId('message-user').querySelector('b')).toBeNull()
    expect(screen.getByTestId('message-user').textContent).toContain('<b>hi</b>')
    expect(screen.getByTestId('branch-at').textContent).toBe('2/2')
  })

  it('switches between an answer’s branches; the earlier one keeps its own follow-ups', async () => {
    signInAs('admin')
    stubFetch({ 'GET /admin/api/chats': { body: [] }, 'GET /admin/api/chats/c1': { body: chat(branches) } })
    renderAt('/chat/c1')
    const texts = () => screen.getAllByTestId('message-text').map((t) => t.textContent)
    await waitFor(() => expect(texts()).toEqual(['first question', 'new answer', 'follow-up', 'last']))
    await userEvent.click(screen.getByRole('button', { name: 'Previous answer' }))
    expect(texts()).toEqual(['first question', 'old answer'])
    expect(screen.getByTestId('branch-at').textContent).toBe('1/2')
    await userEvent.click(screen.getByRole('button', { name: 'Next answer' }))
    expect(texts()).toEqual(['first question', 'new answer', 'follow-up', 'last'])
  })

  it('regenerates an answer beside the others, and sends an edit under the question’s parent; new text streams in', async () => {
    signInAs('admin')
    let n = 0
    const sent = stubChat(branches, (body) => {
      n++
      const user = typeof body.content === 'string' ? msg(`e${n}`, body.parentId as string | null, 'user', body.content) : null
      const answer = msg(`r${n}`, user?.id ?? (body.parentId as string), 'assistant', '', { state: 'streaming' })
      return [
        { type: 'started', user, answer },
        { type: 'delta', content: 'fresh ' },
        { type: 'delta', content: 'text' },
        { type: 'done', message: { ...answer, content: 'fresh text', state: 'complete' } },
      ]
    })
    renderAt('/chat/c1')
    await screen.findAllByTestId('regenerate')
    await userEvent.click(screen.getAllByTestId('regenerate')[1]!)
    await waitFor(() => expect(screen.getAllByTestId('message-text').at(-1)!.textContent).toBe('fresh text'))
    expect(sent[0]).toEqual({ parentId: 'u2', model: 'tiny' })

    await userEvent.click(screen.getAllByTestId('edit')[0]!)
    await userEvent.clear(screen.getByTestId('edit-text'))
    await userEvent.type(screen.getByTestId('edit-text'), 'first, edited')
    await userEvent.click(screen.getByTestId('edit-send'))
    await waitFor(() =>
      expect(screen.getAllByTestId('message-text').map((t) => t.textContent)).toEqual(['first, edited', 'fresh text']),
    )
    expect(sent[1]).toEqual({ content: 'first, edited', parentId: null })
    expect(screen.getAllByTestId('branch-at')[0]!.textContent).toBe('2/2')
  })

  it('sends under the branch shown, and to a second model beside it when comparing; both answers side by side', async () => {
    signInAs('admin')
    useStore.setState({ models: { tiny: modelView('tiny', { state: 'running' }), big: modelView('big') }, modelsStatus: 'ready' })
    let asked = 0
    const sent = stubChat(branches.slice(0, 2), (body) => {
      if (body.content) asked++
      const q = `q${asked}`
      const user = body.content ? msg(q, body.parentId as string, 'user', body.content as string) : null
      const model = (body.model as string | undefined) ?? 'tiny'
      const answer = msg(`ans${asked}-${model}`, q, 'assistant', '', { model, state: 'streaming' })
      return [
        { type: 'started', user, answer },
        { type: 'done', message: { ...answer, content: `from ${model}`, state: 'complete' } },
      ]
    })
    renderAt('/chat/c1')
    await userEvent.selectOptions(await screen.findByTestId('compare-model'), 'big')
    await userEvent.type(screen.getByTestId('composer'), 'which is better?{Enter}')
    await waitFor(() => expect(sent).toHaveLength(2))
    expect(sent).toEqual([
      { content: 'which is better?', parentId: 'a1' },
      { parentId: 'q1', model: 'big' },
    ])
    const pairs = await screen.findAllByTestId('compare-pair')
    await waitFor(() => expect(pairs.at(-1)!.querySelectorAll('[data-testid="message-text"]')[1]?.textContent).toBe('from big'))
    expect(pairs.at(-1)!.querySelectorAll('[data-testid="message-text"]')[0]!.textContent).toBe('from tiny')
    // The next question goes on from the conversation's own model's answer, though the second model's came last.
    await userEvent.type(screen.getByTestId('composer'), 'and now?{Enter}')
    await waitFor(() => expect(sent).toHaveLength(4))
    expect(sent[2]).toEqual({ content: 'and now?', parentId: 'ans1-tiny' })
  })
})

describe('thread', () => {
  it('follows a leaf back through its parents; a switch lands on the newest message below; context is the last answer’s', () => {
    expect(branchTo(branches, null).map((x) => x.id)).toEqual(['u1', 'a2', 'u2', 'a3'])
    expect(branchTo(branches, 'a1').map((x) => x.id)).toEqual(['u1', 'a1'])
    expect(newestUnder(branches, 'a2')).toBe('a3')
    expect(newestUnder(branches, 'a1')).toBe('a1')
    expect(answersBy(branches, 'u1', ['tiny', 'big']).map((a) => a?.id ?? null)).toEqual(['a2', null])
    const figured = msg('a1', 'u1', 'assistant', 'b', {
      figures: { ttftMs: 1, totalMs: 2, promptTokens: 10, completionTokens: 5, decodeTokensPerSecond: 1 },
    })
    expect(contextUsed([branches[0]!, figured])).toBe(15)
    expect(contextUsed([branches[0]!])).toBeNull()
  })

  it('estimates a send as the gateway does: request bytes ÷ 4 plus max_tokens', () => {
    // 120 bytes of request around the messages, 40 around each: system '' + 'abcd' + draft 'x'.repeat(400).
    expect(sendEstimate([msg('u1', null, 'user', 'abcd')], 'x'.repeat(400), { max_tokens: 100 })).toBe(
      Math.ceil((120 + 40 + 44 + 440) / 4) + 100,
    )
  })
})
