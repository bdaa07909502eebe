import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createMemoryLimiter } from '../../gateway/auth/limits.js'
import { createSessions } from '../../gateway/auth/sessions.js'
import { createChatService } from '../../gateway/chat/service.js'
import type { ChatDetail, ChatMessageView, ChatSearchHit, ChatView } from '../../gateway/contract/chat.js'
import { modelDefinition } from '../../gateway/contract/model.test-support.js'
import { createEngineManager, type EngineManager } from '../../gateway/engines/manager.js'
import { FakeModelService, TOKEN, fakeAdmin } from '../../gateway/http/admin/fakes.test-support.js'
import { buildApp } from '../../gateway/http/app.js'
import { testConfig } from '../../gateway/http/fakes.test-support.js'
import { defaultProxyOptions } from '../../gateway/proxy/types.js'
import { migrate, migrations } from '../../gateway/store/migrations.js'
import { openStore } from '../../gateway/store/open.js'
import type { Store } from '../../gateway/store/types.js'

/**
 * The chat playground's server side on the real parts: a listening gateway on a real SQLite data directory (made by
 * the version before the chat tables, so it upgrades in place), the real llama-server with the tiny model, started on
 * demand by the first message. The tiny model never stops on its own, so an answer lasts as long as max_tokens says
 * (about a thousand tokens a second on one CPU thread), within its 2048-token context.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-chat-'))
const dbFile = path.join(dir, 'cortex.db')
const logger = pino({ level: 'silent' })
const PASSWORD = 'correct horse battery'
let store: Store
let engines: EngineManager
let app: FastifyInstance
let origin = ''
const admin = { authorization: `Bearer ${TOKEN}` }

beforeAll(async () => {
  // A database as the gateway before the chat tables left it, with a usage row that must survive.
  const old = new Database(dbFile)
  migrate(old, { dataDir: dir, now: Date.now, list: migrations.slice(0, 4) })
  old
    .prepare(
      "INSERT INTO usage (ts, request_id, model, endpoint, status, stream, total_ms, bytes_in, bytes_out) VALUES (1, 'before', 'tiny', '/v1/chat/completions', 200, 0, 5, 1, 2)",
    )
    .run()
  old.close()

  store = openStore(dir, { logger })
  const tiny = modelDefinition({
    id: 'tiny-id',
    name: 'tiny',
    engine: 'llamacpp',
    runtime: 'process',
    source: inject('tinyModel'),
    args: ['-c', '2048', '-np', '1', '-t', '1'],
  })
  engines = createEngineManager({
    models: [tiny],
    pids: store.pids,
    logger,
    llamaServer: inject('llamaServer'),
    stopOnExit: true,
  })
  const limiter = createMemoryLimiter({ usedToday: new Map() })
  const base = fakeAdmin(logger, new FakeModelService([]))
  const chats = createChatService({
    repo: store.chats,
    proxy: { registry: engines, usage: store.usage, options: defaultProxyOptions, limiter },
    serving: base.serving,
    logger,
  })
  const sessions = createSessions({ repo: store.sessions, users: store.users, adminToken: TOKEN })
  app = buildApp({
    config: testConfig(),
    registry: engines,
    usage: store.usage,
    keys: store.keys,
    limiter,
    logger,
    admin: {
      ...base,
      accounts: store,
      usage: (q) => store.usageReport(q),
      chats,
      sessions: { service: sessions, cookie: { name: 'cortex_chat_test', trustProxy: false }, publicUrl: () => origin },
    },
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
})

afterAll(async () => {
  await app?.close()
  await engines?.close()
  store?.close()
  rmSync(dir, { recursive: true, force: true })
})

type Auth = Record<string, string>
const call = (auth: Auth, method: string, url: string, body?: unknown) =>
  fetch(`${origin}/admin/api${url}`, {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
const detail = async (id: string, auth: Auth = admin) => (await (await call(auth, 'GET', `/chats/${id}`)).json()) as ChatDetail

async function newChat(maxTokens: number, auth: Auth = admin): Promise<ChatView> {
  const res = await call(auth, 'POST', '/chats', { model: 'tiny', params: { max_tokens: maxTokens, seed: 1 } })
  expect(res.status).toBe(201)
  return (await res.json()) as ChatView
}

/** Sends and reads the event stream until `until` holds for the events so far; returns them and the reader. */
async function sendUntil(chatId: string, content: string, until: (events: Array<Record<string, unknown>>) => boolean) {
  const res = await call(admin, 'POST', `/chats/${chatId}/messages`, { content })
  expect(res.status, res.status === 200 ? '' : await res.text()).toBe(200)
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  const events = () =>
    text
      .split('\n\n')
      .slice(0, -1)
      .flatMap((frame) => frame.split('\n').filter((l) => l.startsWith('data: ')))
      .map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>)
  for (;;) {
    const { value, done } = await reader.read()
    if (value) text += decoder.decode(value, { stream: true })
    if (done || until(events())) return { events: events(), reader }
  }
}

function usageRow(requestId: string) {
  const db = new Database(dbFile, { readonly: true })
  try {
    return db.prepare('SELECT * FROM usage WHERE request_id = ?').get(requestId) as Record<string, unknown> | undefined
  } finally {
    db.close()
  }
}

const slotsBusy = async () => {
  const url = engines.statuses()[0]!.replicas[0]!.url!
  const slots = (await (await fetch(`${url}/slots`)).json()) as Array<{ is_processing: boolean }>
  return slots.some((s) => s.is_processing)
}

describe('the chat playground on a real llama-server', () => {
  it('starts the stopped model on demand, streams tokens, and saves the answer with its usage row’s figures', async () => {
    expect(engines.statuses()[0]!.state).toBe('stopped')
    const chat = await newChat(40)
    const { events } = await sendUntil(chat.id, 'hello', (e) => e.at(-1)?.type === 'done')
    expect(events[0]).toMatchObject({ type: 'started', user: { content: 'hello' }, answer: { state: 'streaming' } })
    const deltas = events.filter((e) => e.type === 'delta')
    expect(deltas.length).toBeGreaterThan(1)
    const done = events.at(-1)!.message as ChatMessageView
    expect(done.content).toBe(deltas.map((d) => d.content ?? '').join(''))
    expect(done).toMatchObject({ state: 'complete', model: 'tiny', figures: { completionTokens: 40 } })

    const row = usageRow(done.requestId!)
    expect(row).toMatchObject({ user: 'admin', status: 200, stream: 1, model: 'tiny', completion_tokens: 40 })
    const f = done.figures!
    expect([f.ttftMs, f.totalMs, f.promptTokens, f.completionTokens]).toEqual([
      row!.ttft_ms,
      row!.total_ms,
      row!.prompt_tokens,
      row!.completion_tokens,
    ])
    expect(f.decodeTokensPerSecond).toBeCloseTo((40 * 1000) / (f.totalMs! - f.ttftMs!), 6)
    expect((await detail(chat.id)).messages.map((m) => m.state)).toEqual(['complete', 'complete'])

    const report = (await (await call(admin, 'GET', '/usage?groupBy=user&from=0')).json()) as {
      groups: Array<{ key: string | null; name: string | null; requests: number }>
    }
    expect(report.groups).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'admin', name: 'admin', requests: 1 }),
        // The row from before the upgrade is kept, with no user.
        expect.objectContaining({ key: null, requests: 1 }),
      ]),
    )
  })

  it('Stop mid-answer frees the engine’s slot and keeps the partial answer, cut off', async () => {
    const chat = await newChat(1900)
    const { events, reader } = await sendUntil(chat.id, 'go on', (e) => e.some((x) => x.type === 'delta'))
    const answer = (events[0]!.answer as ChatMessageView).id
    expect(await slotsBusy()).toBe(true)
    const stopped = (await (await call(admin, 'POST', `/chats/${chat.id}/messages/${answer}/stop`)).json()) as ChatMessageView
    expect(stopped).toMatchObject({ id: answer, state: 'cut_off', error: null })
    expect(stopped.content.length).toBeGreaterThan(0)
    await expect.poll(slotsBusy, { timeout: 10_000 }).toBe(false)
    await reader.cancel()
    expect((await detail(chat.id)).messages[1]).toMatchObject({ state: 'cut_off', content: stopped.content })
    expect(usageRow(stopped.requestId!)).toMatchObject({ status: 499, user: 'admin' })
  })

  it('an answer goes on after the client disconnects, and is there in full on the next GET', async () => {
    const chat = await newChat(2000)
    const { events, reader } = await sendUntil(chat.id, 'keep going', (e) => e.some((x) => x.type === 'delta'))
    await reader.cancel()
    const answer = (events[0]!.answer as ChatMessageView).id
    await expect
      .poll(async () => (await detail(chat.id)).messages.find((m) => m.id === answer), { timeout: 30_000 })
      .toMatchObject({ state: 'complete', figures: { completionTokens: 2000 } })
    const full = (await detail(chat.id)).messages.find((m) => m.id === answer)!
    expect(full.content.length).toBeGreaterThan(((events[1]!.content as string | undefined) ?? '').length)
    expect(usageRow(full.requestId!)).toMatchObject({ status: 200, completion_tokens: 2000 })

    // Search finds a word of that answer.
    const word = /[A-Za-z0-9]{3,}/.exec(full.content)![0]
    const hits = (await (await call(admin, 'GET', `/chats/search?q=${encodeURIComponent(word)}`)).json()) as ChatSearchHit[]
    expect(hits.map((h) => h.messageId)).toContain(answer)
  })

  it('another user gets 404 for a conversation, and their own list is empty', async () => {
    const org = store.orgs.create('acme')
    store.users.create({ orgId: org.id, name: 'eve', role: 'member', password: PASSWORD })
    const signed = await call({}, 'POST', '/auth/session', { name: 'eve', password: PASSWORD })
    const eve = {
      cookie: signed.headers.get('set-cookie')!.split(';', 1)[0]!,
      origin,
      'x-cortex-csrf': ((await signed.json()) as { csrf: string }).csrf,
    }
    const [chat] = (await (await call(admin, 'GET', '/chats')).json()) as ChatView[]
    expect((await call(eve, 'GET', `/chats/${chat!.id}`)).status).toBe(404)
    expect((await call(eve, 'POST', `/chats/${chat!.id}/messages`, { content: 'mine now' })).status).toBe(404)
    expect(await (await call(eve, 'GET', '/chats')).json()).toEqual([])
  })

  it('refuses a message that would not fit the model’s context instead of truncating it', async () => {
    const chat = await newChat(1000)
    const res = await call(admin, 'POST', `/chats/${chat.id}/messages`, { content: 'word '.repeat(1000) })
    expect(res.status, await res.clone().text()).toBe(400)
    const { error } = (await res.json()) as { error: { code: string; message: string } }
    expect(error.code).toBe('context_length_exceeded')
    expect(error.message).toMatch(/needs about \d+ tokens .*, plus max_tokens 1000\), .*\(a context of 2048 tokens\)/)
    expect((await detail(chat.id)).messages).toEqual([])
  })
  // Last: the engine is killed, and its model stays failed for the rest of the file.
  it('an engine killed mid-answer leaves the partial answer failed, with the gateway’s message', async () => {
    const chat = await newChat(1900)
    const { events, reader } = await sendUntil(chat.id, 'and then', (e) => e.some((x) => x.type === 'delta'))
    const answer = (events[0]!.answer as ChatMessageView).id
    process.kill(engines.statuses()[0]!.replicas[0]!.pid!, 'SIGKILL')
    await expect
      .poll(async () => (await detail(chat.id)).messages.find((m) => m.id === answer)?.state, { timeout: 10_000 })
      .toBe('failed')
    const failed = (await detail(chat.id)).messages.find((m) => m.id === answer)!
    expect(failed.content.length).toBeGreaterThan(0)
    expect(failed.error).toMatch(/model "tiny" \(replica 0\)/)
    await reader.cancel()
  })
})
