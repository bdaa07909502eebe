import { useState, type Dispatch, type SetStateAction } from 'react'
import type { ChatDetail, ChatMessageView, ChatSendBody } from '../../../../gateway/contract/index.js'
import * as api from '../../api.js'
import { chatEvents } from './chatStream.js'

const message = (err: unknown) => (err instanceof Error ? err.message : String(err))

/** `messages` with each streaming answer in place of its saved copy, and those not saved yet at the end. */
export function withLive(messages: readonly ChatMessageView[], live: Record<string, ChatMessageView>): ChatMessageView[] {
  const merged = messages.map((m) => live[m.id] ?? m)
  const known = new Set(messages.map((m) => m.id))
  return [...merged, ...Object.values(live).filter((m) => !known.has(m.id))]
}

/**
 * The answers streaming into a conversation: each send reads its event stream, shows the deltas, and puts the answer
 * as saved into the conversation when it is done. Several at once is compare (one question, two models).
 */
export function useAnswers(chatId: string, setChat: Dispatch<SetStateAction<ChatDetail | null>>) {
  const [live, setLive] = useState<Record<string, ChatMessageView>>({})
  const [sending, setSending] = useState(0)
  const [error, setError] = useState<string | null>(null)

  const upsert = (m: ChatMessageView) => setChat((c) => c && { ...c, messages: [...c.messages.filter((x) => x.id !== m.id), m] })
  const drop = (id: string) =>
    setLive((l) => {
      const { [id]: _gone, ...rest } = l
      return rest
    })

  /**
   * One send, read to its end; `onUser` hears the saved user message (none for a regenerate) once the engine answers.
   * False when it was refused before that (nothing was saved).
   */
  const stream = async (body: ChatSendBody, onUser?: (user: ChatMessageView) => void): Promise<boolean> => {
    setSending((n) => n + 1)
    let answerId: string | null = null
    try {
      const res = await api.sendChatMessage(chatId, body)
      for await (const event of chatEvents(res.body!)) {
        if (event.type === 'started') {
          if (event.user) {
            upsert(event.user)
            onUser?.(event.user)
          }
          answerId = event.answer.id
          setLive((l) => ({ ...l, [event.answer.id]: event.answer }))
        } else if (event.type === 'delta') {
          const id = answerId!
          setLive((l) => {
            const m = l[id]
            if (m === undefined) return l
            const content = m.content + (event.content ?? '')
            const reasoning = event.reasoning ? (m.reasoning ?? '') + event.reasoning : m.reasoning
            return { ...l, [id]: { ...m, content, reasoning } }
          })
        } else {
          upsert(event.message)
          drop(event.message.id)
        }
      }
    } catch (err) {
      setError(message(err))
    } finally {
      // A stream cut by the network leaves the answer going on at the server: a reload shows it as saved.
      if (answerId !== null) drop(answerId)
      setSending((n) => n - 1)
    }
    return answerId !== null
  }

  return {
    live,
    busy: sending > 0,
    error,
    /**
     * The message, then (compare) the same question to `alsoModel` beside it as soon as it is saved. False when the
     * message was refused (nothing was saved): the caller keeps what was typed.
     */
    async send(body: ChatSendBody, alsoModel: string | null): Promise<boolean> {
      setError(null)
      const second: Array<Promise<boolean>> = []
      const sent = await stream(body, (user) => {
        if (alsoModel !== null) second.push(stream({ parentId: user.id, model: alsoModel }))
      })
      await Promise.all(second)
      return sent
    },
    regenerate: (questionId: string, model?: string) => {
      setError(null)
      return stream({ parentId: questionId, ...(model !== undefined && { model }) })
    },
    stop() {
      for (const id of Object.keys(live)) void api.stopChatMessage(chatId, id).catch((err: unknown) => setError(message(err)))
    },
  }
}
