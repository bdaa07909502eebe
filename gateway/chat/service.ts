import type { Logger } from 'pino'
import type {
  ChatCreateBody,
  ChatDetail,
  ChatMessageView,
  ChatPatchBody,
  ChatSearchHit,
  ChatSendBody,
  ChatView,
} from '../contract/chat.js'
import { CortexError } from '../contract/errors.js'
import type { ProxyContext } from '../proxy/types.js'
import { configuredContext } from '../router/context.js'
import type { Serving } from '../services/serving.js'
import type { ChatRecord, ChatRepo, MessageRecord } from '../store/chats.js'
import { exportChat, type ExportFile } from './export.js'
import { AnswerRun, type RunRequest } from './run.js'
import { newestId, pathTo } from './tree.js'
import { chatView, messageView } from './views.js'

/** Whose conversations: a console user's id (`admin` for the admin token's built-in admin) and organization. */
export interface ChatUser {
  id: string
  orgId: string | null
}

export interface ChatService {
  list(user: ChatUser): ChatView[]
  create(user: ChatUser, body: ChatCreateBody): ChatView
  get(user: ChatUser, id: string): ChatDetail
  update(user: ChatUser, id: string, patch: ChatPatchBody): ChatView
  remove(user: ChatUser, id: string): Promise<void>
  /** Resolves once the engine answers (the messages are saved, tokens follow on the run); rejects with a refusal. */
  send(user: ChatUser, id: string, body: ChatSendBody): Promise<AnswerRun>
  /** Stops a streaming answer and resolves with it as saved (cut_off); an answer already over is returned as it is. */
  stop(user: ChatUser, chatId: string, messageId: string): Promise<ChatMessageView>
  search(user: ChatUser, q: string, limit: number): ChatSearchHit[]
  exportChat(user: ChatUser, id: string, format: 'md' | 'json'): ExportFile
  /** A deleted user's conversations go; their answers in flight stop first. */
  removeUser(userId: string): Promise<number>
  /** Stops every answer in flight (kept, cut off) and waits until each is saved. */
  close(): Promise<void>
}

export interface ChatServiceDeps {
  repo: ChatRepo
  /** The same context /v1 requests go through: routing, limits, queue, cold starts, the usage sink. */
  proxy: ProxyContext
  /** Pause and resume of inference apply to the playground too. */
  serving?: Pick<Serving, 'admit'>
  logger: Logger
}

export const DEFAULT_TITLE = 'New chat'
const TITLE_LENGTH = 60

const notFound = (id: string) => new CortexError('not_found', `no conversation with id "${id}"`)

/** The first line of the first message, as a conversation's title. */
export function titleFrom(content: string): string {
  const line = content.trim().split('\n', 1)[0]!.trim()
  if (line === '') return DEFAULT_TITLE
  return line.length <= TITLE_LENGTH ? line : `${line.slice(0, TITLE_LENGTH - 1)}…`
}

/** The /v1/chat/completions body of an answer: the system prompt, the branch up to it, the parameters. */
export function requestBody(chat: Pick<ChatRecord, 'params'>, model: string, history: MessageRecord[], content: string | null) {
  const { system, ...sampling } = chat.params
  const messages = [
    ...(system === undefined || system === '' ? [] : [{ role: 'system', content: system }]),
    // An answer that failed before its first token says nothing the model should see.
    ...history.filter((m) => m.role === 'user' || m.content !== '').map((m) => ({ role: m.role, content: m.content })),
    ...(content === null ? [] : [{ role: 'user', content }]),
  ]
  return { model, messages, ...sampling, stream: true, stream_options: { include_usage: true } }
}

/**
 * Refuses an answer that would not fit: the prompt as the gateway's tpm estimates it (body bytes ÷ 4) plus the
 * max_tokens asked for, against the model's context (the running engine's, else its flags'). /v1 admission checks the
 * prompt alone, and an engine would cut the answer short at the context's end without a word.
 */
export function checkFits(
  proxy: Pick<ProxyContext, 'registry'>,
  model: string,
  body: Buffer,
  maxTokens: number | undefined,
): void {
  const def = proxy.registry.resolve(model)
  if (def === undefined) return
  const context = proxy.registry.contextLength(def.name) ?? configuredContext(def)
  const prompt = Math.ceil(body.length / 4)
  const need = prompt + (maxTokens ?? 0)
  if (context === null || need <= context) return
  throw new CortexError(
    'context_length_exceeded',
    `this conversation needs about ${need} tokens (the prompt estimated at ${prompt} from its size` +
      `${maxTokens === undefined ? '' : `, plus max_tokens ${maxTokens}`}), more than model "${def.name}" holds ` +
      `(a context of ${context} tokens): start a new conversation, shorten the message, or lower max_tokens`,
    { param: 'content' },
  )
}

export function createChatService(deps: ChatServiceDeps): ChatService {
  const { repo } = deps
  /** Answers streaming now, by message id. */
  const streaming = new Map<string, AnswerRun>()
  /** Every run not yet ended, those still waiting for admission included. */
  const inFlight = new Set<AnswerRun>()
  let closing = false

  const chatOf = (user: ChatUser, id: string): ChatRecord => repo.get(user.id, id) ?? throwNotFound(id)
  const liveView = (m: MessageRecord) => streaming.get(m.id)?.view() ?? messageView(m)
  const stopAll = async (runs: AnswerRun[], reason: string | null) => {
    for (const run of runs) run.stop(reason)
    await Promise.allSettled(runs.map((run) => run.finished))
  }

  return {
    list: (user) => repo.list(user.id).map(chatView),
    create: (user, body) =>
      chatView(repo.create(user.id, { title: body.title ?? DEFAULT_TITLE, model: body.model, params: body.params ?? {} })),
    get(user, id) {
      const chat = chatOf(user, id)
      return { ...chatView(chat), messages: repo.messages(chat.id).map(liveView) }
    },
    update(user, id, patch) {
      const chat = repo.update(user.id, id, patch)
      if (chat === undefined) throw notFound(id)
      return chatView(chat)
    },
    async remove(user, id) {
      const chat = chatOf(user, id)
      await stopAll(
        [...inFlight].filter((r) => r.chatId === chat.id),
        null,
      )
      repo.remove(user.id, chat.id)
    },

    async send(user, id, body) {
      if (closing) throw new CortexError('shutting_down', 'Cortex is shutting down; send the message again shortly')
      const chat = chatOf(user, id)
      const messages = repo.messages(chat.id)
      const byId = new Map(messages.map((m) => [m.id, m]))
      const model = body.model ?? chat.model
      let request: Pick<RunRequest, 'userMessage' | 'answerParentId' | 'body'>
      if (body.content !== undefined) {
        if (typeof body.parentId === 'string' && !byId.has(body.parentId))
          throw new CortexError('not_found', `no message "${body.parentId}" in this conversation`, { param: 'parentId' })
        const parentId = body.parentId === undefined ? newestId(messages) : body.parentId
        const history = parentId === null ? [] : pathTo(messages, parentId)
        const payload = requestBody(chat, model, history, body.content)
        request = {
          userMessage: { parentId, content: body.content },
          answerParentId: null,
          body: Buffer.from(JSON.stringify(payload)),
        }
      } else {
        const parent = typeof body.parentId === 'string' ? byId.get(body.parentId) : undefined
        if (parent?.role !== 'user') {
          throw new CortexError(
            'invalid_request',
            'send "content" (a new message), or "parentId" alone naming one of your messages to answer it again',
            { param: body.parentId === undefined ? 'content' : 'parentId' },
          )
        }
        const payload = requestBody(chat, model, pathTo(messages, parent.id), null)
        request = { userMessage: null, answerParentId: parent.id, body: Buffer.from(JSON.stringify(payload)) }
      }
      checkFits(deps.proxy, model, request.body, chat.params.max_tokens)
      deps.serving?.admit()
      const run = new AnswerRun(
        {
          repo,
          proxy: deps.proxy,
          logger: deps.logger,
          onStarted: (r) => streaming.set(r.answer!.id, r),
          onEnded: (r) => {
            if (r.answer !== null) streaming.delete(r.answer.id)
            inFlight.delete(r)
          },
        },
        { chatId: chat.id, user, model, params: chat.params, ...request },
      )
      inFlight.add(run)
      await run.started
      if (messages.length === 0 && chat.title === DEFAULT_TITLE && body.content !== undefined)
        repo.update(user.id, chat.id, { title: titleFrom(body.content) })
      return run
    },

    async stop(user, chatId, messageId) {
      const chat = chatOf(user, chatId)
      const run = streaming.get(messageId)
      if (run !== undefined && run.chatId === chat.id) {
        run.stop()
        const saved = await run.finished
        return messageView(saved!)
      }
      const message = repo.messages(chat.id).find((m) => m.id === messageId)
      if (message === undefined) throw new CortexError('not_found', `no message "${messageId}" in this conversation`)
      return messageView(message)
    },

    search: (user, q, limit) =>
      repo.search(user.id, q, limit).map((h) => ({ ...h, createdAt: new Date(h.createdAt).toISOString() })),

    exportChat(user, id, format) {
      const chat = chatOf(user, id)
      return exportChat(chat, repo.messages(chat.id), format)
    },

    async removeUser(userId) {
      await stopAll(
        [...inFlight].filter((r) => r.request.user.id === userId),
        null,
      )
      return repo.removeAllOf(userId)
    },

    async close() {
      closing = true
      await stopAll([...inFlight], 'the gateway shut down while this answer was streaming')
    },
  }
}

function throwNotFound(id: string): never {
  throw notFound(id)
}
