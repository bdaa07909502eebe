import { useState, type FormEvent } from 'react'
import type { ChatDetail } from '../../../../gateway/contract/index.js'
import * as api from '../../api.js'
import { ConfirmButton } from '../../components/Confirm.js'
import { useAction } from '../../components/useAction.js'
import { formatCount } from '../../units.js'

/** A conversation's title (rename), its model, how much context it fills, export, parameters and delete. */
export function ChatHead({
  chat,
  used,
  contextLength,
  onRenamed,
  onDeleted,
  onParams,
}: {
  chat: ChatDetail
  used: number | null
  contextLength: number | null
  onRenamed: (title: string) => void
  onDeleted: () => void
  onParams: () => void
}) {
  const [renaming, setRenaming] = useState<string | null>(null)
  const act = useAction()
  const rename = (e: FormEvent) => {
    e.preventDefault()
    const title = renaming?.trim() ?? ''
    if (title === '') return
    void act.run('rename', async () => {
      await api.patchChat(chat.id, { title })
      onRenamed(title)
      setRenaming(null)
    })
  }
  return (
    <div className="conversation-head">
      {renaming === null ? (
        <h2 data-testid="chat-title">{chat.title}</h2>
      ) : (
        <form className="rename" onSubmit={rename}>
          <label className="visually-hidden" htmlFor="chat-title-input">
            Title
          </label>
          <input
            id="chat-title-input"
            value={renaming}
            maxLength={200}
            onChange={(e) => setRenaming(e.target.value)}
            autoFocus
            data-testid="rename-input"
          />
          <button type="submit" className="primary" disabled={renaming.trim() === '' || act.busy !== null}>
            Save
          </button>
          <button type="button" onClick={() => setRenaming(null)}>
            Cancel
          </button>
        </form>
      )}
      <span className="muted small">{chat.model}</span>
      {contextLength !== null && used !== null && (
        <span className="context" title="How much of the model's context the conversation fills" data-testid="context-use">
          <progress max={contextLength} value={Math.min(used, contextLength)} aria-label="Context used" />
          <span className="small muted">
            {formatCount(used)} of {formatCount(contextLength)} tokens
          </span>
        </span>
      )}
      <span className="conversation-tools">
        {renaming === null && (
          <button type="button" className="quiet" onClick={() => setRenaming(chat.title)} data-testid="rename">
            Rename
          </button>
        )}
        <button type="button" className="quiet" onClick={onParams} data-testid="params-open">
          Parameters
        </button>
        <a className="button quiet" href={api.chatExportUrl(chat.id, 'md')} download data-testid="export-md">
          Export .md
        </a>
        <a className="button quiet" href={api.chatExportUrl(chat.id, 'json')} download data-testid="export-json">
          .json
        </a>
        <ConfirmButton
          label="Delete"
          question="Delete this conversation and every branch of it?"
          confirmLabel="Delete"
          testId="delete-chat"
          onConfirm={() => void act.run('delete', async () => (await api.deleteChat(chat.id), onDeleted()))}
        />
      </span>
      {act.error && (
        <p className="form-error small" role="alert">
          {act.error}
        </p>
      )}
    </div>
  )
}
