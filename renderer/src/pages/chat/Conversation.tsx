import { useEffect, useRef, useState, type FormEvent } from 'react'
import type { ChatDetail, ChatMessageView } from '../../../../gateway/contract/index.js'
import * as api from '../../api.js'
import { ErrorState, Loading } from '../../components/States.js'
import { formatCount } from '../../units.js'
import { ChatHead } from './ChatHead.js'
import { ModelStarting } from './ModelStarting.js'
import { ParamsEditor } from './Params.js'
import { Thread } from './Thread.js'
import { answersBy, branchTo, contextUsed, sendEstimate } from './thread.js'
import { useAnswers, withLive } from './useAnswers.js'
import { useContextLength } from './useContextLength.js'

const message = (err: unknown) => (err instanceof Error ? err.message : String(err))

/**
 * One conversation: the branch shown (the newest, or the one picked), answers streaming in with the figures under
 * each, regenerate, edit, compare with a second model, the parameters, stop and send.
 */
export function Conversation({
  id,
  models,
  onChanged,
  onDeleted,
}: {
  id: string
  models: string[]
  onChanged: () => void
  onDeleted: () => void
}) {
  const [chat, setChat] = useState<ChatDetail | null>(null)
  const [loadError, setLoadError] = useState<string | null>(null)
  const [leaf, setLeaf] = useState<string | null>(null)
  const [draft, setDraft] = useState('')
  const [editingParams, setEditingParams] = useState(false)
  const [compareWith, setCompareWith] = useState('')
  const answers = useAnswers(id, setChat)
  const end = useRef<HTMLDivElement>(null)

  const reload = () =>
    api.getChat(id).then(
      (c) => {
        setChat(c)
        setLoadError(null)
      },
      (err: unknown) => setLoadError(message(err)),
    )
  useEffect(() => {
    void reload()
    // Reload when the conversation changes only.
  }, [id])
  // An answer streaming at the server that this page is not reading (sent from another tab, or before a reload) is
  // read again each second until it is over: it goes on there whether or not anyone watches.
  const elsewhere = chat?.messages.some((m) => m.state === 'streaming' && answers.live[m.id] === undefined) ?? false
  useEffect(() => {
    if (!elsewhere) return
    const timer = setTimeout(() => void reload(), 1000)
    return () => clearTimeout(timer)
  }, [chat, elsewhere])
  const all = chat === null ? [] : withLive(chat.messages, answers.live)
  const contextLength = useContextLength(chat?.model ?? null, chat?.messages.length)
  const newest = all.at(-1)
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: 'end' })
  }, [newest?.id, newest?.content])

  if (loadError !== null)
    return <ErrorState title="Could not open the conversation" message={loadError} onRetry={() => void reload()} />
  if (chat === null) return <Loading label="Opening the conversation…" />

  const branch = branchTo(all, leaf)
  const used = contextUsed(branch)
  const compare: [string, string] | null = compareWith === '' ? null : [chat.model, compareWith]
  const need = sendEstimate(branch, draft, chat.params)
  const tooBig = contextLength !== null && draft.trim() !== '' && need > contextLength
  const streaming = Object.keys(answers.live).length > 0
  // After a send the newest message is the branch to show; the server names a new conversation from its first one.
  const after = (p: Promise<unknown>) =>
    void p.then(() => {
      void reload()
      onChanged()
    })

  const send = (e: FormEvent) => {
    e.preventDefault()
    const content = draft.trim()
    if (content === '' || answers.busy) return
    setDraft('')
    setLeaf(null)
    // Comparing, the conversation goes on from the conversation's own model's answer, whichever came last.
    const tail = branch.at(-1)
    const own = compare && tail?.role === 'assistant' && tail.parentId ? answersBy(all, tail.parentId, compare)[0] : null
    const sent = answers.send({ content, parentId: (own ?? tail)?.id ?? null }, compare?.[1] ?? null)
    // A refused message (it would not fit, the model is unknown…) is given back to edit, unless something new was typed.
    after(sent.then((ok) => ok || setDraft((d) => (d === '' ? content : d))))
  }
  const edit = (question: ChatMessageView, content: string) => {
    setLeaf(null)
    after(answers.send({ content, parentId: question.parentId }, compare?.[1] ?? null))
  }
  const regenerate = (questionId: string, model?: string) => {
    setLeaf(null)
    after(answers.regenerate(questionId, model))
  }

  return (
    <section className="conversation" aria-label={chat.title}>
      <ChatHead
        chat={chat}
        used={used}
        contextLength={contextLength}
        onRenamed={(title) => {
          setChat({ ...chat, title })
          onChanged()
        }}
        onDeleted={onDeleted}
        onParams={() => setEditingParams((v) => !v)}
      />
      {editingParams && (
        <ParamsEditor
          params={chat.params}
          onClose={() => setEditingParams(false)}
          onSave={async (params) => setChat({ ...chat, ...(await api.patchChat(chat.id, { params })) })}
        />
      )}
      {[chat.model, ...(compare ? [compare[1]] : [])].map((name) => (
        <ModelStarting key={name} name={name} waiting={answers.busy && !streaming} />
      ))}
      <div className={`messages${compare ? ' comparing' : ''}`} aria-live="polite">
        {branch.length === 0 && (
          <p className="muted">Send a message to start. Answers stream here, with the gateway’s own figures.</p>
        )}
        <Thread
          all={all}
          branch={branch}
          live={answers.live}
          compare={compare}
          busy={answers.busy}
          actions={{ pick: setLeaf, edit, regenerate }}
        />
        <div ref={end} />
      </div>
      {answers.error && (
        <p className="form-error" role="alert" data-testid="send-error">
          {answers.error}
        </p>
      )}
      {tooBig && (
        <p className="notice small" role="status" data-testid="context-warning">
          This send needs about {formatCount(need)} tokens
          {chat.params.max_tokens !== undefined && ` (with max tokens ${formatCount(chat.params.max_tokens)})`}, more than the{' '}
          {formatCount(contextLength)} tokens {chat.model} holds: the gateway will refuse it. Start a new conversation, shorten
          the message or lower max tokens.
        </p>
      )}
      <form className="composer" onSubmit={send}>
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
        <span className="composer-side">
          <label className="field small">
            <span>Compare with</span>
            <select value={compareWith} onChange={(e) => setCompareWith(e.target.value)} data-testid="compare-model">
              <option value="">(no second model)</option>
              {models
                .filter((m) => m !== chat.model)
                .map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
            </select>
          </label>
          {streaming ? (
            <button type="button" onClick={answers.stop} data-testid="stop-answer">
              Stop
            </button>
          ) : (
            <button type="submit" className="primary" disabled={answers.busy || draft.trim() === ''} data-testid="send">
              {answers.busy ? 'Sending…' : 'Send'}
            </button>
          )}
        </span>
      </form>
    </section>
  )
}
