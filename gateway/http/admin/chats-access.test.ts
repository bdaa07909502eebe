import { describe, expect, it } from 'vitest'
import type { ChatView } from '../../contract/chat.js'
import { admin, call, detail, newChat, send, signIn, streams, upstream, useChatWorld, world } from './chats.test-support.js'

useChatWorld()

describe('the chat playground API, by user', () => {
  it('keeps each user’s conversations their own: another gets 404 for every route, whatever the id', async () => {
    upstream.handler = streams(['mine'])
    const ann = await signIn('ann')
    const bea = await signIn('bea')
    const chat = await newChat(ann)
    await send(chat.id, { content: 'secret plans' }, ann)
    const answer = (await detail(chat.id, ann)).messages[1]!.id
    expect(((await (await call(ann, 'GET', '/chats')).json()) as ChatView[]).map((c) => c.id)).toEqual([chat.id])
    expect(await (await call(bea, 'GET', '/chats')).json()).toEqual([])
    for (const [method, path, body] of [
      ['GET', `/chats/${chat.id}`],
      ['PATCH', `/chats/${chat.id}`, { title: 'x' }],
      ['DELETE', `/chats/${chat.id}`],
      ['GET', `/chats/${chat.id}/export`],
      ['POST', `/chats/${chat.id}/messages`, { content: 'x' }],
      ['POST', `/chats/${chat.id}/messages/${answer}/stop`],
    ] as const) {
      expect((await call(bea, method, path, body)).status, `${method} ${path}`).toBe(404)
    }
    expect(await (await call(bea, 'GET', '/chats/search?q=secret')).json()).toEqual([])
    expect(await (await call(admin, 'GET', `/chats/${chat.id}`)).status).toBe(404)
    // Ann's request recorded Ann and her organization.
    expect(world.usageRows.rows[0]).toMatchObject({ user: world.ann.id, orgId: world.ann.orgId })
  })

  it('a member gets 404 for the admin’s conversations; a session changes them only with its CSRF token, from its own page', async () => {
    upstream.handler = streams(['the admin’s answer'])
    const ann = await signIn('ann')
    const adminsChat = await newChat(admin)
    await send(adminsChat.id, { content: 'admin only' })
    for (const [method, path] of [
      ['GET', `/chats/${adminsChat.id}`],
      ['GET', `/chats/${adminsChat.id}/export?format=json`],
      ['DELETE', `/chats/${adminsChat.id}`],
    ] as const) {
      expect((await call(ann, method, path)).status, `${method} ${path}`).toBe(404)
    }
    expect(await (await call(ann, 'GET', '/chats/search?q=admin')).json()).toEqual([])

    const own = await newChat(ann)
    const { 'x-cortex-csrf': csrf, ...noToken } = ann
    const wrongToken = { ...ann, 'x-cortex-csrf': `${csrf}x` }
    const otherPage = { ...ann, origin: 'http://127.0.0.1:1' }
    for (const auth of [noToken, wrongToken, otherPage]) {
      for (const [method, path, body] of [
        ['POST', '/chats', { model: 'tiny' }],
        ['PATCH', `/chats/${own.id}`, { title: 'x' }],
        ['DELETE', `/chats/${own.id}`],
        ['POST', `/chats/${own.id}/messages`, { content: 'x' }],
      ] as const) {
        expect((await call(auth, method, path, body)).status, `${method} ${path}`).toBe(403)
      }
    }
    expect(await detail(own.id, ann)).toMatchObject({ title: 'New chat', messages: [] })
    expect(((await (await call(ann, 'GET', '/chats')).json()) as ChatView[]).map((c) => c.id)).toEqual([own.id])
  })
})
