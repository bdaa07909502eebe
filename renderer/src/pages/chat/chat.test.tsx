import { render, screen } from '@testing-library/react'
import { createMemoryRouter, RouterProvider } from 'react-router'
import { describe, expect, it } from 'vitest'
import type { ChatDetail, ChatMessageView } from '../../../../gateway/contract/index.js'
import { signInAs, stubFetch } from '../../test/fakes.js'
import { Component as Chat } from './index.js'
import { contextUsed, newestBranch } from './thread.js'

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
const chat = (messages: ChatMessageView[]): ChatDetail => ({
  id: 'c1',
  title: 'hello',
  model: 'tiny',
  params: {},
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  messages,
})

const renderAt = (path: string) =>
  render(<RouterProvider router={createMemoryRouter([{ path: '/chat/:id?', element: <Chat /> }], { initialEntries: [path] })} />)

describe('chat', () => {
  it('shows the newest branch with each answer’s figures, and markup as text', async () => {
    signInAs('admin')
    const figures = { ttftMs: 120, totalMs: 1120, promptTokens: 30, completionTokens: 50, decodeTokensPerSecond: 50 }
    stubFetch({
      'GET /admin/api/chats': { body: [chat([])] },
      'GET /admin/api/chats/c1': {
        body: chat([
          msg('u1', null, 'user', '<b>hi</b>'),
          msg('a1', 'u1', 'assistant', 'old answer'),
          msg('a2', 'u1', 'assistant', 'new answer', { figures }),
        ]),
      },
    })
    renderAt('/chat/c1')
    const answers = await screen.findAllByTestId('message-assistant')
    expect(answers.map((a) => a.querySelector('[data-testid="message-text"]')!.textContent)).toEqual(['new answer'])
    expect(screen.getByTestId('figures').textContent).toBe('first token 120 ms · 50 tok/s · 30 in · 50 out')
    expect(screen.getByTestId('message-user').querySelector('b')).toBeNull()
    expect(screen.getByTestId('message-user').textContent).toContain('<b>hi</b>')
  })
})

describe('thread', () => {
  it('follows the newest message back through its parents; context is the last answer’s prompt and output', () => {
    const m = [
      msg('u1', null, 'user', 'a'),
      msg('a1', 'u1', 'assistant', 'b'),
      msg('u2', 'a1', 'user', 'c'),
      msg('u2b', 'a1', 'user', 'd'),
    ]
    expect(newestBranch(m).map((x) => x.id)).toEqual(['u1', 'a1', 'u2b'])
    const figured = msg('a1', 'u1', 'assistant', 'b', {
      figures: { ttftMs: 1, totalMs: 2, promptTokens: 10, completionTokens: 5, decodeTokensPerSecond: 1 },
    })
    expect(contextUsed([m[0]!, figured])).toBe(15)
    expect(contextUsed([m[0]!])).toBeNull()
  })
})
