import { describe, expect, it } from 'vitest'
import type { ChatDetail, ChatMessageView, ChatView } from '../../contract/chat.js'
import { eventually, json } from '../fakes.test-support.js'
import {
  admin,
  call,
  delta,
  detail,
  newChat,
  parseEvents,
  PASSWORD,
  send,
  signIn,
  streams,
  upstream,
  useChatWorld,
  world,
} from './chats.test-support.js'

useChatWorld()

describe('the chat playground API', () => {
  it('sends through the gateway’s request path: tokens stream, the answer is saved with the figures of its usage row', async () => {
    upstream.handler = streams(['Hel', 'lo', ' there'])
    const chat = await newChat(admin, {
      model: 'tiny',
      params: { system: 'be brief', temperature: 0.5, max_tokens: 64, stop: ['\n\n'] },
    })
    const events = await send(chat.id, { content: 'Say hello\nplease' })
    expect(events.map((e) => e.type)).toEqual(['started', 'delta', 'delta', 'delta', 'done'])
    expect(events.filter((e) => e.type === 'delta').map((e) => e.content)).toEqual(['Hel', 'lo', ' there'])
    const done = events.at(-1)!.message as ChatMessageView
    expect(done).toMatchObject({ role: 'assistant', content: 'Hello there', state: 'complete', model: 'tiny', error: null })

    const [row] = world.usageRows.rows
    expect(row).toMatchObject({ requestId: done.requestId, user: 'admin', keyId: null, status: 200, stream: true })
    expect(done.figures).toEqual({
      ttftMs: row!.ttftMs,
      totalMs: row!.totalMs,
      promptTokens: 7,
      completionTokens: 3,
      decodeTokensPerSecond: (3 * 1000) / (row!.totalMs - row!.ttftMs!),
    })
    // What the engine got: the system prompt, the message, the parameters, a stream with usage.
    expect(JSON.parse(upstream.received[0]!.body.toString())).toEqual({
      model: 'tiny',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'Say hello\nplease' },
      ],
      temperature: 0.5,
      max_tokens: 64,
      stop: ['\n\n'],
      stream: true,
      stream_options: { include_usage: true },
    })
    const saved = await detail(chat.id)
    expect(saved.title).toBe('Say hello')
    expect(saved.messages.map((m) => [m.role, m.content, m.state])).toEqual([
      ['user', 'Say hello\nplease', 'complete'],
      ['assistant', 'Hello there', 'complete'],
    ])
    expect(saved.messages[1]).toEqual(done)
  })

  it('branches on an edit and on a regenerate, each answer seeing only its own branch', async () => {
    upstream.handler = streams(['one'])
    const chat = await newChat()
    const first = await send(chat.id, { content: 'first' })
    const a1 = (first.at(-1)!.message as ChatMessageView).id
    await send(chat.id, { content: 'second' })
    const q2 = (await detail(chat.id)).messages[2]!
    // Edit the second question: a sibling under the first answer; regenerate it: a second answer under q2.
    await send(chat.id, { content: 'second, edited', parentId: a1 })
    await send(chat.id, { parentId: q2.id, model: 'other' })
    const sent = upstream.received.map(
      (r) => JSON.parse(r.body.toString()) as { model: string; messages: Array<{ content: string }> },
    )
    expect(sent[2]!.messages.map((m) => m.content)).toEqual(['first', 'one', 'second, edited'])
    expect(sent[3]).toMatchObject({ model: 'other' })
    expect(sent[3]!.messages.map((m) => m.content)).toEqual(['first', 'one', 'second'])
    const tree = (await detail(chat.id)).messages
    expect(tree.filter((m) => m.parentId === a1).map((m) => m.content)).toEqual(['second', 'second, edited'])
    expect(tree.filter((m) => m.parentId === q2.id).map((m) => m.model)).toEqual(['tiny', 'other'])
    // An edit of the first message: parentId null makes a second first message, which sees nothing before it.
    await send(chat.id, { content: 'first, edited', parentId: null })
    expect(JSON.parse(upstream.received[4]!.body.toString())).toMatchObject({ messages: [{ content: 'first, edited' }] })
    expect((await detail(chat.id)).messages.filter((m) => m.parentId === null).map((m) => m.content)).toEqual([
      'first',
      'first, edited',
    ])
    const refused = await call(admin, 'POST', `/chats/${chat.id}/messages`, { parentId: a1 })
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as { error: { param: string } }).error.param).toBe('parentId')
  })

  it('Stop aborts the engine’s request and keeps what had arrived, cut off', async () => {
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    upstream.handler = async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(delta('partial'))
      await held
      res.end()
    }
    const chat = await newChat()
    const res = await call(admin, 'POST', `/chats/${chat.id}/messages`, { content: 'go on forever' })
    const reader = res.body!.getReader()
    let text = ''
    while (!text.includes('"delta"')) text += new TextDecoder().decode((await reader.read()).value)
    const answer = (parseEvents(text)[0]!.answer as ChatMessageView).id
    const stopped = await call(admin, 'POST', `/chats/${chat.id}/messages/${answer}/stop`)
    expect(stopped.status).toBe(200)
    expect(await stopped.json()).toMatchObject({ id: answer, content: 'partial', state: 'cut_off', error: null })
    await upstream.received[0]!.aborted
    release()
    await eventually(() => expect(world.usageRows.rows[0]).toMatchObject({ status: 499, user: 'admin' }))
    expect((await detail(chat.id)).messages[1]).toMatchObject({ content: 'partial', state: 'cut_off' })
    // Stopping an answer that is over gives it back as it is.
    expect(await (await call(admin, 'POST', `/chats/${chat.id}/messages/${answer}/stop`)).json()).toMatchObject({
      state: 'cut_off',
    })
  })

  it('a gateway that closes keeps the answers in flight, cut off, before the store goes', async () => {
    upstream.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(delta('so far'))
    }
    const chat = await newChat()
    const res = await call(admin, 'POST', `/chats/${chat.id}/messages`, { content: 'q' })
    const reader = res.body!.getReader()
    let text = ''
    while (!text.includes('"delta"')) text += new TextDecoder().decode((await reader.read()).value)
    await world.app.close()
    const [, answer] = world.admin.accounts.db
      .prepare('SELECT content, state, error FROM chat_messages ORDER BY seq')
      .all() as Array<Record<string, unknown>>
    expect(answer).toEqual({
      content: 'so far',
      state: 'cut_off',
      error: 'the gateway shut down while this answer was streaming',
    })
  })

  it('an engine that breaks off keeps the partial answer, failed, with the gateway’s message', async () => {
    upstream.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(delta('half an'), () => setTimeout(() => res.socket?.destroy(), 10))
    }
    const chat = await newChat()
    const done = (await send(chat.id, { content: 'q' })).at(-1)!.message as ChatMessageView
    expect(done).toMatchObject({ content: 'half an', state: 'failed', error: expect.stringContaining('could not be reached') })
    expect((await detail(chat.id)).messages[1]).toMatchObject({ content: 'half an', state: 'failed' })
  })

  it('refuses a message that would not fit the context, saving nothing, and passes an engine’s refusal on', async () => {
    const chat = await newChat()
    const long = await call(admin, 'POST', `/chats/${chat.id}/messages`, { content: 'word '.repeat(5000) })
    expect(long.status).toBe(400)
    const body = (await long.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('context_length_exceeded')
    expect(body.error.message).toMatch(/needs about \d+ tokens .* more than .*4096/)
    expect(upstream.received).toHaveLength(0)
    // A prompt that fits, with more output asked for than the rest of the context holds.
    await call(admin, 'PATCH', `/chats/${chat.id}`, { params: { max_tokens: 4000 } })
    const output = await call(admin, 'POST', `/chats/${chat.id}/messages`, { content: 'word '.repeat(100) })
    expect(output.status).toBe(400)
    expect(((await output.json()) as typeof body).error.message).toMatch(
      /^this conversation needs about 4\d{3} tokens \(the prompt estimated at \d+ from its size, plus max_tokens 4000\), more than model "tiny" holds \(a context of 4096 tokens\)/,
    )
    expect(upstream.received).toHaveLength(0)
    await call(admin, 'PATCH', `/chats/${chat.id}`, { params: {} })

    upstream.handler = (_req, res) => json(res, 400, { error: { message: 'bad grammar', type: 'invalid_request_error' } })
    const refused = await call(admin, 'POST', `/chats/${chat.id}/messages`, { content: 'hi' })
    expect(refused.status).toBe(400)
    expect(await refused.json()).toEqual({ error: { message: 'bad grammar', type: 'invalid_request_error' } })
    expect((await detail(chat.id)).messages).toEqual([])
  })

  it('renames, changes parameters, lists newest first, searches, exports and deletes', async () => {
    upstream.handler = streams(['zebras are striped'])
    const older = await newChat(admin, { model: 'tiny', title: 'Older' })
    const chat = await newChat()
    await send(chat.id, { content: 'tell me about animals' })
    const patched = await call(admin, 'PATCH', `/chats/${chat.id}`, { title: 'Animals', params: { seed: 42 } })
    expect(await patched.json()).toMatchObject({ title: 'Animals', params: { seed: 42 } })
    expect(((await (await call(admin, 'GET', '/chats')).json()) as ChatView[]).map((c) => c.title)).toEqual(['Animals', 'Older'])
    // Out of range: a 400 naming the field, and the conversation as it was.
    for (const [body, param] of [
      [{ params: { temperature: 2.5 } }, 'params.temperature'],
      [{ params: { top_p: -1 } }, 'params.top_p'],
      [{ params: { max_tokens: 1e12 } }, 'params.max_tokens'],
      [{ params: { seed: 1e300 } }, 'params.seed'],
      [{ params: { stop: ['a', 'b', 'c', 'd', 'e'] } }, 'params.stop'],
      [{ params: { stop: ['x'.repeat(501)] } }, 'params.stop[0]'],
      [{ title: 't'.repeat(201) }, 'title'],
    ] as const) {
      const bad = await call(admin, 'PATCH', `/chats/${chat.id}`, body)
      expect(bad.status, JSON.stringify(body)).toBe(400)
      expect(await bad.json()).toMatchObject({ error: { param } })
    }
    const tooLong = await call(admin, 'POST', `/chats/${chat.id}/messages`, { content: 'x'.repeat(1_000_001) })
    expect(tooLong.status).toBe(400)
    expect(await tooLong.json()).toMatchObject({ error: { param: 'content' } })
    expect(await detail(chat.id)).toMatchObject({ title: 'Animals', params: { seed: 42 }, messages: [{}, {}] })

    const hits = (await (await call(admin, 'GET', '/chats/search?q=zebra')).json()) as Array<Record<string, unknown>>
    expect(hits).toEqual([
      expect.objectContaining({ chatId: chat.id, chatTitle: 'Animals', role: 'assistant', snippet: 'zebras are striped' }),
    ])

    const md = await call(admin, 'GET', `/chats/${chat.id}/export?format=md`)
    expect(md.headers.get('content-disposition')).toBe('attachment; filename="Animals.md"')
    const text = await md.text()
    expect(text).toContain(
      '# Animals\n\nModel: tiny\n\n## You\n\ntell me about animals\n\n## Assistant\n\nzebras are striped\n\n_tiny · TTFT',
    )
    const exported = (await (await call(admin, 'GET', `/chats/${chat.id}/export?format=json`)).json()) as ChatDetail
    expect(exported).toEqual(await detail(chat.id))

    // A title that would break the header or the path is only letters, digits and dashes in the file's name.
    const hostile = '"; filename=evil.html\r\nSet-Cookie: x=1\n../../etc/passwd\\ <script> é 日本'
    expect((await call(admin, 'PATCH', `/chats/${chat.id}`, { title: hostile })).status).toBe(200)
    for (const format of ['md', 'json']) {
      const file = await call(admin, 'GET', `/chats/${chat.id}/export?format=${format}`)
      expect(file.headers.get('content-disposition')).toBe(
        `attachment; filename="filenameevilhtml-Set-Cookie-x1-etcpasswd-script-e.${format}"`,
      )
      expect(file.headers.get('content-type')).toBe(
        format === 'md' ? 'text/markdown; charset=utf-8' : 'application/json; charset=utf-8',
      )
      expect(file.headers.get('x-content-type-options')).toBe('nosniff')
      expect(file.headers.get('set-cookie')).toBeNull()
    }

    expect((await call(admin, 'DELETE', `/chats/${chat.id}`)).status).toBe(204)
    expect((await call(admin, 'GET', `/chats/${chat.id}`)).status).toBe(404)
    expect(await (await call(admin, 'GET', '/chats/search?q=zebra')).json()).toEqual([])
    expect(((await (await call(admin, 'GET', '/chats')).json()) as ChatView[]).map((c) => c.id)).toEqual([older.id])
  })

  it('DELETE /users/{id}: no more sign-in, keys revoked, sessions ended, conversations gone, usage rows kept', async () => {
    upstream.handler = streams(['hi'])
    const ann = await signIn('ann')
    const key = await call(ann, 'POST', '/keys', { name: 'ann-key' })
    expect(key.status).toBe(201)
    const chat = await newChat(ann)
    await send(chat.id, { content: 'hello' }, ann)
    expect((await call(ann, 'DELETE', `/users/${world.ann.id}`)).status).toBe(403)

    expect((await call(admin, 'DELETE', '/users/ann')).status).toBe(204)
    expect((await call(ann, 'GET', '/chats')).status).toBe(401)
    const again = await call({}, 'POST', '/auth/session', { name: 'ann', password: PASSWORD })
    expect(again.status).toBe(401)
    const keys = (await (await call(admin, 'GET', '/keys')).json()) as Array<{ name: string; state: string }>
    expect(keys.find((k) => k.name === 'ann-key')?.state).toBe('revoked')
    expect(world.admin.accounts.db.prepare('SELECT count(*) AS n FROM chats').get()).toEqual({ n: 0 })
    const sessionsOfAnn = world.admin.accounts.db.prepare('SELECT count(*) AS n FROM sessions WHERE user_id = ?')
    expect(sessionsOfAnn.get(world.ann.id)).toEqual({ n: 0 })
    expect(world.usageRows.rows).toHaveLength(1)
    expect(((await (await call(admin, 'GET', '/users')).json()) as Array<{ name: string }>).map((u) => u.name)).toEqual(['bea'])
    expect((await call(admin, 'DELETE', '/users/ann')).status).toBe(404)
  })
})
