import { render, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { createMemoryRouter, RouterProvider } from 'react-router'
import { describe, expect, it } from 'vitest'
import type { ChatDetail, ChatMessageView } from '../../../../gateway/contract/index.js'
import { useStore } from '../../store/index.js'
import { errorBody, signInAs, stubFetch } from '../../test/fakes.js'
import { modelView } from '../../test/models.js'
import { Component as Chat } from './index.js'
import { parseParams } from './Params.js'
import { Value } from 'typebox/value'
import { ChatParams } from '../../../../gateway/contract/chat.js'

const detail = (over: Partial<ChatDetail> = {}): ChatDetail => ({
  id: 'c1',
  title: 'hello',
  model: 'tiny',
  params: {},
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  messages: [],
  ...over,
})
const answer = (content: string, promptTokens: number, completionTokens: number): ChatMessageView => ({
  id: 'a1',
  parentId: 'u1',
  role: 'assistant',
  content,
  reasoning: null,
  model: 'tiny',
  params: null,
  state: 'complete',
  error: null,
  requestId: 'r1',
  figures: { ttftMs: 10, totalMs: 110, promptTokens, completionTokens, decodeTokensPerSecond: 10 },
  createdAt: '2026-01-01T00:00:00.000Z',
})

const renderAt = (path: string) => {
  const router = createMemoryRouter([{ path: '/chat/:id?', element: <Chat /> }], { initialEntries: [path] })
  render(<RouterProvider router={router} />)
  return router
}

describe('conversation tools', () => {
  it('saves the parameters the gateway takes, and says what is wrong with a bad one before sending', async () => {
    signInAs('admin')
    const { calls } = stubFetch({
      'GET /admin/api/chats': { body: [] },
      'GET /admin/api/chats/c1': { body: detail({ params: { temperature: 0.7 } }) },
      'PATCH /admin/api/chats/c1': (req) => ({ body: detail({ params: (req.body as { params: object }).params }) }),
    })
    renderAt('/chat/c1')
    await userEvent.click(await screen.findByTestId('params-open'))
    expect(screen.getByTestId('param-temperature')).toHaveProperty('value', '0.7')
    await userEvent.clear(screen.getByTestId('param-temperature'))
    await userEvent.type(screen.getByTestId('param-temperature'), '3')
    await userEvent.click(screen.getByTestId('params-save'))
    expect(screen.getByRole('alert').textContent).toBe('temperature is a number from 0 to 2')
    expect(calls.filter((c) => c.method === 'PATCH')).toHaveLength(0)

    await userEvent.clear(screen.getByTestId('param-temperature'))
    await userEvent.type(screen.getByTestId('param-temperature'), '0.2')
    await userEvent.type(screen.getByTestId('param-system'), 'Be brief.')
    await userEvent.type(screen.getByTestId('param-max_tokens'), '64')
    await userEvent.type(screen.getByTestId('param-seed'), '-7')
    await userEvent.type(screen.getByTestId('param-stop'), 'END{Enter}###')
    await userEvent.click(screen.getByTestId('params-save'))
    await waitFor(() => expect(screen.queryByTestId('chat-params')).toBeNull())
    expect(calls.find((c) => c.method === 'PATCH')!.body).toEqual({
      params: { system: 'Be brief.', temperature: 0.2, max_tokens: 64, seed: -7, stop: ['END', '###'] },
    })
  })

  it('renames and deletes a conversation (once confirmed), back to the list', async () => {
    signInAs('admin')
    const { calls } = stubFetch({
      'GET /admin/api/chats': { body: [] },
      'GET /admin/api/chats/c1': { body: detail() },
      'PATCH /admin/api/chats/c1': { body: detail({ title: 'Trip plans' }) },
      'DELETE /admin/api/chats/c1': { status: 204 },
    })
    const router = renderAt('/chat/c1')
    await userEvent.click(await screen.findByTestId('rename'))
    await userEvent.clear(screen.getByTestId('rename-input'))
    await userEvent.type(screen.getByTestId('rename-input'), 'Trip plans{Enter}')
    expect((await screen.findByTestId('chat-title')).textContent).toBe('Trip plans')
    expect(calls.find((c) => c.method === 'PATCH')!.body).toEqual({ title: 'Trip plans' })

    await userEvent.click(screen.getByTestId('delete-chat'))
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false)
    await userEvent.click(screen.getByTestId('delete-chat-confirm'))
    await waitFor(() => expect(router.state.location.pathname).toBe('/chat'))
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.url)).toEqual(['/admin/api/chats/c1'])
  })

  it('searches the user’s messages and links each hit to its conversation; export links download md and json', async () => {
    signInAs('member')
    stubFetch({
      'GET /admin/api/chats': { body: [] },
      'GET /admin/api/chats/c1': { body: detail() },
      'GET /admin/api/chats/search?q=lisbon': {
        body: [
          {
            chatId: 'c1',
            chatTitle: 'Trip',
            messageId: 'm1',
            role: 'assistant',
            snippet: '…a week in Lisbon…',
            createdAt: '2026-01-01T00:00:00.000Z',
          },
        ],
      },
    })
    renderAt('/chat/c1')
    await userEvent.type(await screen.findByTestId('chat-search'), 'lisbon{Enter}')
    const hit = await screen.findByTestId('search-hit')
    expect(hit.getAttribute('href')).toBe('/chat/c1')
    expect(hit.textContent).toBe('Trip · answer…a week in Lisbon…')
    expect(screen.getByTestId('export-md').getAttribute('href')).toBe('/admin/api/chats/c1/export?format=md')
    expect(screen.getByTestId('export-json').getAttribute('href')).toBe('/admin/api/chats/c1/export?format=json')
  })

  it('warns before a send that would not fit the model’s context, and shows the bar of what it fills', async () => {
    signInAs('admin')
    useStore.setState({ models: { tiny: modelView('tiny', { state: 'running', contextLength: 1024 }) }, modelsStatus: 'ready' })
    stubFetch({
      'GET /admin/api/chats': { body: [] },
      'GET /admin/api/chats/c1': {
        body: detail({
          params: { max_tokens: 512 },
          messages: [{ ...answer('', 0, 0), id: 'u1', parentId: null, role: 'user', figures: null }, answer('hi', 300, 100)],
        }),
      },
      'POST /admin/api/chats/c1/messages': {
        status: 400,
        body: errorBody('this conversation needs about 900 tokens', 'context_length_exceeded'),
      },
    })
    renderAt('/chat/c1')
    expect((await screen.findByTestId('context-use')).textContent).toBe('400 of 1,024 tokens')
    expect(screen.getByRole('option', { name: 'tiny (running, 1,024 tokens of context)' })).toBeTruthy()
    await userEvent.type(screen.getByTestId('composer'), 'short')
    expect(screen.queryByTestId('context-warning')).toBeNull()
    await userEvent.paste('x'.repeat(2000))
    expect(screen.getByTestId('context-warning').textContent).toMatch(
      /^This send needs about [\d,]+ tokens \(with max tokens 512\), more than the 1,024 tokens tiny holds/,
    )
    // Sent anyway, the gateway refuses it: what it says shows, and the message is still there to shorten.
    await userEvent.click(screen.getByTestId('send'))
    expect((await screen.findByTestId('send-error')).textContent).toBe('this conversation needs about 900 tokens')
    expect(screen.getByTestId('composer')).toHaveProperty('value', `short${'x'.repeat(2000)}`)
  })

  it('reads the context length from the admin API when the live state has none (it is read after the engine runs)', async () => {
    signInAs('admin')
    useStore.setState({ models: { tiny: modelView('tiny', { state: 'running', contextLength: null }) }, modelsStatus: 'ready' })
    stubFetch({
      'GET /admin/api/chats': { body: [] },
      'GET /admin/api/models/tiny': { body: modelView('tiny', { state: 'running', contextLength: 2048 }) },
      'GET /admin/api/chats/c1': {
        body: detail({
          messages: [{ ...answer('', 0, 0), id: 'u1', parentId: null, role: 'user', figures: null }, answer('hi', 30, 10)],
        }),
      },
    })
    renderAt('/chat/c1')
    expect((await screen.findByTestId('context-use')).textContent).toBe('40 of 2,048 tokens')
  })

  it('reads again an answer still streaming at the server (sent before a reload) until it is over', async () => {
    signInAs('admin')
    const question = { ...answer('', 0, 0), id: 'u1', parentId: null, role: 'user' as const, figures: null }
    let reads = 0
    stubFetch({
      'GET /admin/api/chats': { body: [] },
      'GET /admin/api/chats/c1': () => {
        reads++
        const done = reads > 1
        return {
          body: detail({
            messages: [question, { ...answer(done ? 'all of it' : 'part', 5, 3), state: done ? 'complete' : 'streaming' }],
          }),
        }
      },
    })
    renderAt('/chat/c1')
    const a = await screen.findByTestId('message-assistant')
    expect(a.getAttribute('data-state')).toBe('streaming')
    await waitFor(() => expect(screen.getByTestId('message-assistant').getAttribute('data-state')).toBe('complete'), {
      timeout: 3000,
    })
    expect(screen.getByTestId('message-assistant').textContent).toContain('all of it')
    expect(reads).toBe(2)
  })

  it('starts a stopped model an admin picks and shows its load progress; a refused start says why', async () => {
    signInAs('admin')
    useStore.setState({
      models: { tiny: modelView('tiny', { state: 'running' }), big: modelView('big'), mid: modelView('mid') },
      modelsStatus: 'ready',
    })
    const { calls } = stubFetch({
      'GET /admin/api/chats': { body: [] },
      'POST /admin/api/models/big/start': () => {
        useStore.setState((s) => ({
          models: {
            ...s.models,
            big: modelView('big', { state: 'loading', startingSince: Date.now() - 3000, lastStartMs: 10_000 }),
          },
        }))
        return { body: modelView('big') }
      },
      'POST /admin/api/models/mid/start': { status: 409, body: errorBody('no GPU memory free: stop "big" first', 'conflict') },
    })
    renderAt('/chat')
    await userEvent.selectOptions(await screen.findByTestId('chat-model'), 'big')
    expect((await screen.findByTestId('model-starting')).textContent).toMatch(/^big is loading: 3 s of about 10 s/)
    await userEvent.selectOptions(screen.getByTestId('chat-model'), 'tiny')
    await userEvent.selectOptions(screen.getByTestId('chat-model'), 'mid')
    expect(await screen.findByText('no GPU memory free: stop "big" first')).toBeTruthy()
    // A running model is not started again.
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.url)).toEqual([
      '/admin/api/models/big/start',
      '/admin/api/models/mid/start',
    ])
  })
})

describe('parseParams', () => {
  const blank = { system: '', temperature: '', top_p: '', max_tokens: '', seed: '', stop: '' }
  it('leaves empty fields to the engine and refuses what the gateway would', () => {
    expect(parseParams(blank)).toEqual({ params: {} })
    expect(parseParams({ ...blank, top_p: '1.5' })).toEqual({ error: 'top_p is a number from 0 to 1', field: 'top_p' })
    expect(parseParams({ ...blank, max_tokens: '0' })).toEqual({
      error: 'max_tokens is a whole number from 1 to 1048576',
      field: 'max_tokens',
    })
    expect(parseParams({ ...blank, seed: '1.5' })).toEqual({ error: 'seed is a whole number', field: 'seed' })
    expect(parseParams({ ...blank, stop: 'a\nb\nc\nd\ne' })).toMatchObject({ field: 'stop' })
  })

  it('accepts exactly what the gateway’s ChatParams does, at each bound', () => {
    const cases: Array<Partial<typeof blank>> = [
      { temperature: '2' },
      { temperature: '2.01' },
      { top_p: '-0.1' },
      { max_tokens: '1048576' },
      { max_tokens: '1048577' },
      { seed: String(Number.MAX_SAFE_INTEGER) },
      { seed: '9007199254740993' },
      { seed: String(Number.MIN_SAFE_INTEGER) },
      { stop: 'x'.repeat(500) },
      { stop: 'x'.repeat(501) },
      { stop: 'a\nb\nc\nd' },
    ]
    for (const c of cases) {
      const parsed = parseParams({ ...blank, ...c })
      const field = Object.keys(c)[0]
      if ('params' in parsed) expect(Value.Check(ChatParams, parsed.params), JSON.stringify(c)).toBe(true)
      else {
        expect(parsed.field).toBe(field)
        // What the form refuses, the gateway refuses too.
        const raw = field === 'stop' ? c.stop!.split('\n') : Number(c[field as keyof typeof c])
        expect(Value.Check(ChatParams, { [field!]: raw }), JSON.stringify(c)).toBe(false)
      }
    }
  })
})
