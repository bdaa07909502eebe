import { useState, type FormEvent } from 'react'
import type { ChatMessageView } from '../../../../gateway/contract/index.js'
import { Message } from './Message.js'
import { answersBy, newestUnder, siblingsOf } from './thread.js'

export interface ThreadActions {
  /** Show the branch that goes through this message. */
  pick(id: string): void
  /** Send `content` as a sibling of a user message (under its parent): an edit, a new branch. */
  edit(question: ChatMessageView, content: string): void
  /** Answer this user message again, beside its earlier answers. */
  regenerate(questionId: string, model?: string): void
}

/**
 * The branch shown, with a switcher on every message that has siblings (‹ 2/3 ›). With two models to compare, each
 * question's answers from both stand side by side.
 */
export function Thread({
  all,
  branch,
  live,
  compare,
  busy,
  actions,
}: {
  all: ChatMessageView[]
  branch: ChatMessageView[]
  live: Record<string, ChatMessageView>
  compare: [string, string] | null
  busy: boolean
  actions: ThreadActions
}) {
  const [editing, setEditing] = useState<string | null>(null)
  const switcher = (m: ChatMessageView) => {
    const group = siblingsOf(all, m)
    if (group.length < 2) return null
    const at = group.findIndex((x) => x.id === m.id)
    const go = (i: number) => actions.pick(newestUnder(all, group[(i + group.length) % group.length]!.id))
    const what = m.role === 'user' ? 'version' : 'answer'
    return (
      <span className="branch-switch" data-testid="branch-switch">
        <button type="button" className="quiet" onClick={() => go(at - 1)} aria-label={`Previous ${what}`} disabled={busy}>
          ‹
        </button>
        <span className="num small" data-testid="branch-at">
          {at + 1}/{group.length}
        </span>
        <button type="button" className="quiet" onClick={() => go(at + 1)} aria-label={`Next ${what}`} disabled={busy}>
          ›
        </button>
      </span>
    )
  }
  const answer = (m: ChatMessageView) => (
    <Message
      key={m.id}
      m={m}
      live={live[m.id] !== undefined}
      actions={
        <>
          {compare === null && switcher(m)}
          {m.parentId !== null && (
            <button
              type="button"
              className="quiet"
              disabled={busy}
              onClick={() => actions.regenerate(m.parentId!, m.model ?? undefined)}
              data-testid="regenerate"
            >
              Regenerate
            </button>
          )}
        </>
      }
    />
  )

  return branch.map((m) => {
    if (m.role === 'user') {
      if (editing === m.id)
        return (
          <EditForm
            key={m.id}
            m={m}
            onCancel={() => setEditing(null)}
            onSend={(content) => {
              setEditing(null)
              actions.edit(m, content)
            }}
          />
        )
      return (
        <Message
          key={m.id}
          m={m}
          actions={
            <>
              {switcher(m)}
              <button type="button" className="quiet" disabled={busy} onClick={() => setEditing(m.id)} data-testid="edit">
                Edit
              </button>
            </>
          }
        />
      )
    }
    if (compare === null || m.parentId === null) return answer(m)
    // Compare: the question's answer from each model, side by side; the one in the branch stands in for a model not asked.
    const pair = answersBy(all, m.parentId, compare)
    return (
      <div key={m.id} className="compare-pair" data-testid="compare-pair">
        {pair.map((a, i) =>
          a === null ? (
            <p key={compare[i]} className="muted small compare-missing">
              Not asked of {compare[i]}.{' '}
              <button type="button" className="quiet" disabled={busy} onClick={() => actions.regenerate(m.parentId!, compare[i])}>
                Ask it
              </button>
            </p>
          ) : (
            answer(a)
          ),
        )}
      </div>
    )
  })
}

function EditForm({ m, onSend, onCancel }: { m: ChatMessageView; onSend: (content: string) => void; onCancel: () => void }) {
  const [text, setText] = useState(m.content)
  const submit = (e: FormEvent) => {
    e.preventDefault()
    if (text.trim() !== '') onSend(text)
  }
  return (
    <form className="message message-user edit-form" onSubmit={submit} aria-label="Edit your message">
      <label className="visually-hidden" htmlFor={`edit-${m.id}`}>
        Your message
      </label>
      <textarea id={`edit-${m.id}`} value={text} onChange={(e) => setText(e.target.value)} rows={3} data-testid="edit-text" />
      <p className="muted small">Sending makes a new branch; the earlier one stays (switch with ‹ ›).</p>
      <span className="form-actions">
        <button type="submit" className="primary" disabled={text.trim() === ''} data-testid="edit-send">
          Send as a new branch
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </span>
    </form>
  )
}
