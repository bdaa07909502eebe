/** The chat playground API tests' gateway and calls (chats.test.ts, chats-access.test.ts). */
import type { ServerResponse } from 'node:http'
import { afterEach, beforeEach, expect } from 'vitest'
import { createSessions } from '../../auth/sessions.js'
import { createChatService } from '../../chat/service.js'
import type { ChatDetail, ChatView } from '../../contract/chat.js'
import { modelView } from '../../contract/admin.test-support.js'
import { modelDefinition } from '../../contract/model.test-support.js'
import { defaultProxyOptions } from '../../proxy/types.js'
import { createChatRepo } from '../../store/chats.js'
import { createSessionRepo } from '../../store/sessions.js'
import { buildApp } from '../app.js'
import { FakeRegistry, MemoryUsage, MockUpstream, memoryLogger, noKeys, testConfig } from '../fakes.test-support.js'
import { FakeModelService, TOKEN, fakeAdmin } from './fakes.test-support.js'

export const PASSWORD = 'correct horse battery'
export const delta = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`
const usage = (prompt: number, completion: number) =>
  `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: prompt, completion_tokens: completion } })}\n\n`

/** An engine streaming `parts` a few ms apart, then usage and [DONE]. */
export function streams(parts: string[], prompt = 7) {
  return async (_req: unknown, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (const part of parts) {
      res.write(delta(part))
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    res.end(usage(prompt, parts.length) + 'data: [DONE]\n\n')
  }
}

export let upstream: MockUpstream
export let world: Awaited<ReturnType<typeof start>>
/** A gateway with the chat service and a mock engine for each test of the file that calls this. */
export function useChatWorld(): void {
  beforeEach(async () => {
    upstream = await new MockUpstream().start()
    world = await start()
  })
  afterEach(async () => {
    await world.app.close()
    await upstream.close()
  })
}

async function start() {
  const { logger } = memoryLogger()
  const admin = fakeAdmin(logger, new FakeModelService([modelView({ id: 'id-tiny', name: 'tiny' })]))
  const registry = new FakeRegistry([modelDefinition({ name: 'tiny' }), modelDefinition({ name: 'other' })])
  registry.target = { replica: 0, apiRoot: '/v1', dispatcher: upstream.pool }
  const usageRows = new MemoryUsage()
  const { limiter, keys } = noKeys()
  const sessions = createSessions({ repo: createSessionRepo(admin.accounts.db), users: admin.accounts.users, adminToken: TOKEN })
  const acme = admin.accounts.orgs.create('acme')
  const ann = admin.accounts.users.create({ orgId: acme.id, name: 'ann', role: 'member', password: PASSWORD })
  admin.accounts.users.create({ orgId: acme.id, name: 'bea', role: 'member', password: PASSWORD })
  const chats = createChatService({
    repo: createChatRepo(admin.accounts.db, Date.now),
    proxy: { registry, usage: usageRows, options: defaultProxyOptions, limiter },
    serving: admin.serving,
    logger,
  })
  const app = buildApp({
    config: testConfig(),
    registry,
    usage: usageRows,
    logger,
    keys,
    limiter,
    admin: { ...admin, chats, sessions: { service: sessions, cookie: { name: 'cs', trustProxy: false }, publicUrl: () => '' } },
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  const origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  return { app, admin, usageRows, ann, origin }
}

export type Auth = Record<string, string>
export const admin: Auth = { authorization: `Bearer ${TOKEN}` }

export async function signIn(name: string): Promise<Auth> {
  const res = await call({}, 'POST', '/auth/session', { name, password: PASSWORD })
  const body = (await res.json()) as { csrf: string }
  const cookie = res.headers.get('set-cookie')!.split(';', 1)[0]!
  return { cookie, origin: world.origin, 'x-cortex-csrf': body.csrf }
}

export function call(auth: Auth, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${world.origin}/admin/api${path}`, {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
}

export async function newChat(auth: Auth = admin, body: object = { model: 'tiny' }): Promise<ChatView> {
  const res = await call(auth, 'POST', '/chats', body)
  expect(res.status).toBe(201)
  return (await res.json()) as ChatView
}

export interface Event {
  type: string
  [k: string]: unknown
}

/** The events of an answer stream, read to its end. */
export async function send(chatId: string, body: object, auth: Auth = admin): Promise<Event[]> {
  const res = await call(auth, 'POST', `/chats/${chatId}/messages`, body)
  expect(res.status, await res.clone().text()).toBe(200)
  expect(res.headers.get('content-type')).toBe('text/event-stream')
  return parseEvents(await res.text())
}

export function parseEvents(text: string): Event[] {
  return text
    .split('\n\n')
    .map((frame) => frame.split('\n').find((l) => l.startsWith('data: ')))
    .filter((line) => line !== undefined)
    .map((line) => JSON.parse(line.slice(6)) as Event)
}

export const detail = async (id: string, auth: Auth = admin) =>
  (await (await call(auth, 'GET', `/chats/${id}`)).json()) as ChatDetail
