import type { FastifyRequest } from 'fastify'
import Type from 'typebox'
import { BUILTIN_ADMIN } from '../../auth/sessions.js'
import { UpstreamRefusal } from '../../chat/run.js'
import type { ChatService, ChatUser } from '../../chat/service.js'
import {
  ChatCreateBody,
  ChatExportQuery,
  ChatMessageView,
  ChatPatchBody,
  ChatSearchHit,
  ChatSearchQuery,
  ChatSendBody,
  ChatView,
} from '../../contract/chat.js'
import { CortexError } from '../../contract/errors.js'
import type { AdminApp } from './index.js'
import type { SseStreams } from './sse.js'

const Id = Type.String({ minLength: 1, maxLength: 64 })
const ChatParamsSchema = Type.Object({ id: Id })
const MessageParams = Type.Object({ id: Id, mid: Id })

/** A console session's user; the admin token is the built-in admin. API keys have no conversations. */
function chatUser(req: FastifyRequest): ChatUser {
  if (req.session !== null) return { id: req.session.user.id, orgId: req.session.user.orgId }
  if (req.adminCaller.kind === 'admin') return { id: BUILTIN_ADMIN.id, orgId: null }
  throw new CortexError('scope_not_allowed', 'the chat playground is for console users: sign in to the console')
}

/**
 * The chat playground's conversations, each its user's alone (another user's id is a 404). Sending answers with an
 * event stream once the engine answers; the answer goes on, and is saved, when the client leaves.
 */
export function chatRoutes(app: AdminApp, chats: ChatService, streams: SseStreams): void {
  app.get('/chats', { schema: { response: { 200: Type.Array(ChatView) } } }, (req) => chats.list(chatUser(req)))
  app.post('/chats', { schema: { body: ChatCreateBody, response: { 201: ChatView } } }, (req, reply) => {
    reply.code(201)
    return chats.create(chatUser(req), req.body)
  })
  app.get('/chats/search', { schema: { querystring: ChatSearchQuery, response: { 200: Type.Array(ChatSearchHit) } } }, (req) =>
    chats.search(chatUser(req), req.query.q, req.query.limit ?? 50),
  )
  app.get('/chats/:id', { schema: { params: ChatParamsSchema } }, (req) => chats.get(chatUser(req), req.params.id))
  app.patch('/chats/:id', { schema: { params: ChatParamsSchema, body: ChatPatchBody, response: { 200: ChatView } } }, (req) =>
    chats.update(chatUser(req), req.params.id, req.body),
  )
  app.delete('/chats/:id', { schema: { params: ChatParamsSchema } }, async (req, reply) => {
    await chats.remove(chatUser(req), req.params.id)
    return reply.code(204).send()
  })
  app.get('/chats/:id/export', { schema: { params: ChatParamsSchema, querystring: ChatExportQuery } }, (req, reply) => {
    const file = chats.exportChat(chatUser(req), req.params.id, req.query.format ?? 'md')
    // A download, never a page: the name is letters, digits and dashes (export.ts); no sniffing, no cache of it.
    return reply
      .header('content-type', file.contentType)
      .header('content-disposition', `attachment; filename="${file.fileName}"`)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-store')
      .send(file.text)
  })

  app.post('/chats/:id/messages', { schema: { params: ChatParamsSchema, body: ChatSendBody } }, async (req, reply) => {
    let run
    try {
      run = await chats.send(chatUser(req), req.params.id, req.body)
    } catch (err) {
      // The engine's own refusal keeps its status and body, as on /v1.
      if (err instanceof UpstreamRefusal) return reply.code(err.status).type('application/json').send(err.body)
      throw err
    }
    const stream = streams.start(reply)
    // Leaving unsubscribes only: the answer goes on and is saved.
    stream.onClose(
      run.subscribe((event) => {
        stream.event(event.type, event)
        if (event.type === 'done') stream.end()
      }),
    )
    return reply
  })
  app.post('/chats/:id/messages/:mid/stop', { schema: { params: MessageParams, response: { 200: ChatMessageView } } }, (req) =>
    chats.stop(chatUser(req), req.params.id, req.params.mid),
  )
}
