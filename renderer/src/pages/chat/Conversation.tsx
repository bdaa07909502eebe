import { useEffect, useRef, useState, type FormEvent } from 'react'
import type { ChatDetail, ChatMessageView } from '../../../../gateway/contract/index.js'
import * as api from '../../api.js'
import { ErrorState, Loading } from '../../components/States.js'
import { useStore } from '../../store/index.js'
import { formatCount } from '../../units.js'
import { chatEvents } from './chatStream.js'
import { Message } from './Message.js'
import { contextUsed, newestBranch } from './thread.js'

const message = (err: unknown) => (err instanceof Error ? err.message : String(err))

/** One conversation: its newest branch, the answer streaming in, the figures under each answer, stop and send. */
export function Conversation({ id, onChanged }: { id: string; onChanged: () => void }) {
  const [chat, setChat] = useState<ChatDetail | null>(null)
  const [loadError, setLoadError] = useState<string | null>(null)
  const [live, setLive] = useState<ChatMessageView | null>(null)
  const [draft, setDraft] = useState('')
  const [sendError, setSendError] = useState<string | null>(null)
  const [sending, setSending] = useState(false)
  const end = useRef<HTMLDivElement>(null)
  const contextLength = useStore((s) =>
    chat ? (Object.values(s.models).find((m) => m.name === chat.model)?.status.contextLength ?? null) : null,
  )

  const reload = () =>
    api.getChat(id).then(
      (c) => {
        setChat(c)
        setLoadError(null)
      },
      (err: unknown) => setLoadError(message(err)),
    )
  useEffect(() => {
    setChat(null)
    void reload()
    // Reload when the conversation changes only.
  }, [id])
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: 'end' })
  }, [chat, live?.content])

  if (loadError !== null)
    return <ErrorState title="Could not open the conversation" message={loadError} onRetry={() => void reload()} />
  if (chat === null) return <Loading label="Opening the conversation…" />

  const branch = newestBranch(chat.messages)
  const shown = live === null ? branch : [...branch.filter((m) => m.id !== live.id), live]
  const used = contextUsed(branch)

  const send = async (e: FormEvent) => {
    e.preventDefault()
    const content = draft.trim()
    if (content === '' || sending) return
    setSending(true)
    setSendError(null)
    try {
      const res = await api.sendChatMessage(id, { content })
      setDraft('')
      for await (const event of chatEvents(res.body!)) {
        if (event.type === 'started') {
          setChat((c) => (c && event.user ? { ...c, messages: [...c.messages, event.user] } : c))
          setLive(event.answer)
        } else if (event.type === 'delta') {
          setLive(
            (m) =>
              m && {
                ...m,
                content: m.content + (event.content ?? ''),
                reasoning: event.reasoning ? (m.reasoning ?? '') + event.reasoning : m.reasoning,
              },
          )
        } else {
          setChat((c) => c && { ...c, messages: [...c.messages.filter((m) => m.id !== event.message.id), event.message] })
          setLive(null)
        }
      }
      // The server names a new conversation from its first message, and keeps the answer as saved.
      void reload()
      onChanged()
    } catch (err) {
      setSendError(message(err))
    } finally {
      setSending(false)
      setLive(null)
    }
  }
  const stop = () => {
    if (live) void api.stopChatMessage(id, live.id).catch((err: unknown) => setSendError(message(err)))
  }

  return (
    <section className="conversation" aria-label={chat.title}>
      <div className="conversation-head">
        <h2>{chat.title}</h2>
        <span className="muted small">{chat.model}</span>
        {contextLength !== null && used !== null && (
          <span className="context" title="How much of the model's context the conversation fills" data-testid="context-use">
            <progress max={contextLength} value={Math.min(used, contextLength)} aria-label="Context used" />
            <span className="small muted">
              {formatCount(used)} of {formatCount(contextLength)} tokens
            </span>
          </span>
        )}
      </div>
      <div className="messages" aria-live="polite">
        {shown.length === 0 && (
          <p className="muted">Send a message to start. Answers stream here, with the gateway’s own figures.</p>
        )}
        {shown.map((m) => (
          <Message key={m.id} m={m} live={live?.id === m.id} />
        ))}
        <div ref={end} />
      </div>
      {sendError && (
        <p className="form-error" role="alert" data-testid="send-error">
          {sendError}
        </p>
      )}
      <form className="composer" onSubmit={(e) => void send(e)}>
        <label className="visually-hidden" htmlFor="composer-text">
          Message
        </label>
        <textarea
          id="composer-text"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault()
              e.currentTarget.form?.requestSubmit()
            }
          }}
          rows={3}
          placeholder="Message (Enter sends, Shift+Enter for a new line)"
          data-testid="composer"
        />
        {live ? (
          <button type="button" onClick={stop} data-testid="stop-answer">
            Stop
          </button>
        ) : (
          <button type="submit" className="primary" disabled={sending || draft.trim() === ''} data-testid="send">
            {sending ? 'Sending…' : 'Send'}
          </button>
        )}
      </form>
    </section>
  )
}
