import type { ChatMessageView, ChatView } from '../contract/chat.js'
import type { ChatRecord, MessageRecord } from '../store/chats.js'
import { figuresOf } from './tree.js'

const iso = (ms: number) => new Date(ms).toISOString()

export function chatView(c: ChatRecord): ChatView {
  return { id: c.id, title: c.title, model: c.model, params: c.params, createdAt: iso(c.createdAt), updatedAt: iso(c.updatedAt) }
}

export function messageView(m: MessageRecord): ChatMessageView {
  return {
    id: m.id,
    parentId: m.parentId,
    role: m.role,
    content: m.content,
    reasoning: m.reasoning,
    model: m.model,
    params: m.params,
    state: m.state,
    error: m.error,
    requestId: m.requestId,
    figures: figuresOf(m),
    createdAt: iso(m.createdAt),
  }
}
