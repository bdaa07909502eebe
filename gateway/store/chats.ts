import { randomBytes } from 'node:crypto'
import type Database from 'better-sqlite3'
import type { ChatMessageState, ChatParams } from '../contract/chat.js'

export interface ChatRecord {
  id: string
  userId: string
  title: string
  model: string
  params: ChatParams
  createdAt: number
  updatedAt: number
}

/** An answer's measured figures, as its usage row has them. */
export interface MessageFigures {
  ttftMs: number | null
  totalMs: number | null
  promptTokens: number | null
  completionTokens: number | null
}

export interface MessageRecord extends MessageFigures {
  id: string
  chatId: string
  parentId: string | null
  role: 'user' | 'assistant'
  content: string
  reasoning: string | null
  model: string | null
  params: ChatParams | null
  state: ChatMessageState
  error: string | null
  requestId: string | null
  createdAt: number
  updatedAt: number
}

export type NewMessage = Pick<MessageRecord, 'chatId' | 'parentId' | 'role' | 'content' | 'state'> &
  Partial<Pick<MessageRecord, 'model' | 'params' | 'requestId'>>

/** What an answer's writes change as it streams and when it ends. */
export type MessageUpdate = Partial<
  Pick<MessageRecord, 'content' | 'reasoning' | 'state' | 'error' | 'requestId'> & MessageFigures
>

export interface SearchRow {
  chatId: string
  chatTitle: string
  messageId: string
  role: 'user' | 'assistant'
  snippet: string
  createdAt: number
}

/** Conversations and their message trees. Every read and write of a conversation names its user: others see none. */
export interface ChatRepo {
  create(userId: string, chat: Pick<ChatRecord, 'title' | 'model' | 'params'>): ChatRecord
  /** Newest `updatedAt` first. */
  list(userId: string): ChatRecord[]
  get(userId: string, id: string): ChatRecord | undefined
  update(userId: string, id: string, patch: Partial<Pick<ChatRecord, 'title' | 'model' | 'params'>>): ChatRecord | undefined
  /** The conversation and all its messages; false when the user has none by that id. */
  remove(userId: string, id: string): boolean
  removeAllOf(userId: string): number
  /** Every message of every branch, in the order they were made. */
  messages(chatId: string): MessageRecord[]
  /** Adds a message and makes its conversation the newest. */
  addMessage(message: NewMessage): MessageRecord
  updateMessage(id: string, update: MessageUpdate): void
  /** Full-text search (FTS5) over the user's messages; every word of `q` must occur (the last as a prefix). */
  search(userId: string, q: string, limit: number): SearchRow[]
  /** Answers left `streaming` by a gateway that stopped: cut_off, with what they had saved. Returns how many. */
  cutOffInterrupted(): number
}

interface ChatRow {
  id: string
  user_id: string
  title: string
  model: string
  params: string
  created_at: number
  updated_at: number
}

interface MessageRow {
  id: string
  chat_id: string
  parent_id: string | null
  role: 'user' | 'assistant'
  content: string
  reasoning: string | null
  model: string | null
  params: string | null
  state: ChatMessageState
  error: string | null
  request_id: string | null
  ttft_ms: number | null
  total_ms: number | null
  prompt_tokens: number | null
  completion_tokens: number | null
  created_at: number
  updated_at: number
}

const toChat = (r: ChatRow): ChatRecord => ({
  id: r.id,
  userId: r.user_id,
  title: r.title,
  model: r.model,
  params: JSON.parse(r.params) as ChatParams,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})

const toMessage = (r: MessageRow): MessageRecord => ({
  id: r.id,
  chatId: r.chat_id,
  parentId: r.parent_id,
  role: r.role,
  content: r.content,
  reasoning: r.reasoning,
  model: r.model,
  params: r.params === null ? null : (JSON.parse(r.params) as ChatParams),
  state: r.state,
  error: r.error,
  requestId: r.request_id,
  ttftMs: r.ttft_ms,
  totalMs: r.total_ms,
  promptTokens: r.prompt_tokens,
  completionTokens: r.completion_tokens,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})

const COLUMNS: Record<keyof MessageUpdate, string> = {
  content: 'content',
  reasoning: 'reasoning',
  state: 'state',
  error: 'error',
  requestId: 'request_id',
  ttftMs: 'ttft_ms',
  totalMs: 'total_ms',
  promptTokens: 'prompt_tokens',
  completionTokens: 'completion_tokens',
}

/**
 * A user's words as an FTS5 query: each one quoted (so `"`, `*`, `-`, `NEAR`, `OR` are text, never syntax), all
 * required, the last as a prefix so a search finds while it is being typed. Null when nothing is left to look for.
 */
export function ftsQuery(q: string): string | null {
  const words = q.split(/\s+/).filter((w) => w !== '')
  if (words.length === 0) return null
  return words.map((w, i) => `"${w.replaceAll('"', '""')}"${i === words.length - 1 ? '*' : ''}`).join(' ')
}

const newId = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`

export function createChatRepo(db: Database.Database, now: () => number): ChatRepo {
  const insertChat = db.prepare<[ChatRow]>(`
    INSERT INTO chats (id, user_id, title, model, params, created_at, updated_at)
    VALUES (@id, @user_id, @title, @model, @params, @created_at, @updated_at)`)
  const listChats = db.prepare<[string], ChatRow>('SELECT * FROM chats WHERE user_id = ? ORDER BY updated_at DESC, id')
  const getChat = db.prepare<[string, string], ChatRow>('SELECT * FROM chats WHERE user_id = ? AND id = ?')
  const saveChat = db.prepare<[ChatRow]>(
    'UPDATE chats SET title = @title, model = @model, params = @params, updated_at = @updated_at WHERE id = @id',
  )
  const touchChat = db.prepare<[number, string]>('UPDATE chats SET updated_at = max(updated_at, ?) WHERE id = ?')
  const removeChat = db.prepare<[string, string]>('DELETE FROM chats WHERE user_id = ? AND id = ?')
  const removeAll = db.prepare<[string]>('DELETE FROM chats WHERE user_id = ?')
  const messagesOf = db.prepare<[string], MessageRow>('SELECT * FROM chat_messages WHERE chat_id = ? ORDER BY seq')
  const insertMessage = db.prepare<[MessageRow]>(`
    INSERT INTO chat_messages (id, chat_id, parent_id, role, content, reasoning, model, params, state, error, request_id,
      ttft_ms, total_ms, prompt_tokens, completion_tokens, created_at, updated_at)
    VALUES (@id, @chat_id, @parent_id, @role, @content, @reasoning, @model, @params, @state, @error, @request_id,
      @ttft_ms, @total_ms, @prompt_tokens, @completion_tokens, @created_at, @updated_at)`)
  const search = db.prepare<[string, string, number], SearchRow>(`
    SELECT m.chat_id AS chatId, c.title AS chatTitle, m.id AS messageId, m.role AS role,
      snippet(chat_messages_fts, 0, '', '', '…', 16) AS snippet, m.created_at AS createdAt
    FROM chat_messages_fts f JOIN chat_messages m ON m.seq = f.rowid JOIN chats c ON c.id = m.chat_id
    WHERE chat_messages_fts MATCH ? AND c.user_id = ?
    ORDER BY f.rank LIMIT ?`)
  const interrupted = db.prepare<[string, number]>(
    "UPDATE chat_messages SET state = 'cut_off', error = ?, updated_at = ? WHERE state = 'streaming'",
  )

  const addMessage = db.transaction((m: NewMessage): MessageRecord => {
    const at = now()
    const row: MessageRow = {
      id: newId('msg'),
      chat_id: m.chatId,
      parent_id: m.parentId,
      role: m.role,
      content: m.content,
      reasoning: null,
      model: m.model ?? null,
      params: m.params === undefined || m.params === null ? null : JSON.stringify(m.params),
      state: m.state,
      error: null,
      request_id: m.requestId ?? null,
      ttft_ms: null,
      total_ms: null,
      prompt_tokens: null,
      completion_tokens: null,
      created_at: at,
      updated_at: at,
    }
    insertMessage.run(row)
    touchChat.run(at, m.chatId)
    return toMessage(row)
  })

  return {
    create(userId, chat) {
      const at = now()
      const row: ChatRow = {
        id: newId('chat'),
        user_id: userId,
        title: chat.title,
        model: chat.model,
        params: JSON.stringify(chat.params),
        created_at: at,
        updated_at: at,
      }
      insertChat.run(row)
      return toChat(row)
    },
    list: (userId) => listChats.all(userId).map(toChat),
    get(userId, id) {
      const row = getChat.get(userId, id)
      return row && toChat(row)
    },
    update(userId, id, patch) {
      const row = getChat.get(userId, id)
      if (row === undefined) return undefined
      const next: ChatRow = {
        ...row,
        title: patch.title ?? row.title,
        model: patch.model ?? row.model,
        params: patch.params === undefined ? row.params : JSON.stringify(patch.params),
        updated_at: Math.max(row.updated_at, now()),
      }
      saveChat.run(next)
      return toChat(next)
    },
    remove: (userId, id) => removeChat.run(userId, id).changes > 0,
    removeAllOf: (userId) => removeAll.run(userId).changes,
    messages: (chatId) => messagesOf.all(chatId).map(toMessage),
    addMessage,
    updateMessage(id, update) {
      const keys = (Object.keys(update) as Array<keyof MessageUpdate>).filter((k) => update[k] !== undefined)
      if (keys.length === 0) return
      const sets = keys.map((k) => `${COLUMNS[k]} = @${k}`).join(', ')
      // Column names come from COLUMNS only, never from the caller.
      db.prepare(`UPDATE chat_messages SET ${sets}, updated_at = @updatedAt WHERE id = @id`).run({
        ...Object.fromEntries(keys.map((k) => [k, update[k]])),
        updatedAt: now(),
        id,
      })
    },
    search(userId, q, limit) {
      const match = ftsQuery(q)
      return match === null ? [] : search.all(match, userId, limit)
    },
    cutOffInterrupted: () => interrupted.run('the gateway stopped while this answer was streaming', now()).changes,
  }
}
