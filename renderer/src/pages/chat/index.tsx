import { useEffect, useState, type FormEvent } from 'react'
import { Link, useNavigate, useParams } from 'react-router'
import { useShallow } from 'zustand/react/shallow'
import type { ChatView } from '../../../../gateway/contract/index.js'
import * as api from '../../api.js'
import { ErrorState } from '../../components/States.js'
import { useAction } from '../../components/useAction.js'
import { starts } from '../../routes.js'
import { useStore } from '../../store/index.js'
import { loadModels } from '../../store/loaders.js'
import { selectModelIds } from '../../store/selectors.js'
import { Conversation } from './Conversation.js'
import './chat.css'
import './markdown.css'

export const loader = starts(loadModels)

/** The playground: conversations kept on the server (per user), a model picker, and the conversation itself. */
export function Component() {
  const { id } = useParams()
  const [chats, setChats] = useState<ChatView[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const ids = useStore(useShallow(selectModelIds))
  const all = useStore((s) => s.models)
  const models = ids.map((mid) => ({ name: all[mid]!.name, state: all[mid]!.status.state }))
  const [model, setModel] = useState('')
  const create = useAction()
  const navigate = useNavigate()

  const reload = () =>
    api.listChats().then(
      (list) => {
        setChats(list)
        setError(null)
      },
      (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
    )
  useEffect(() => void reload(), [])
  const picked = model || models[0]?.name || ''

  const start = (e: FormEvent) => {
    e.preventDefault()
    void create.run('new', async () => {
      const chat = await api.createChat({ model: picked })
      await reload()
      await navigate(`/chat/${encodeURIComponent(chat.id)}`)
    })
  }

  return (
    <div className="chat-page">
      <aside className="chat-list" aria-label="Conversations">
        <form onSubmit={start} className="new-chat">
          <label className="field">
            <span>Model</span>
            <select value={picked} onChange={(e) => setModel(e.target.value)} data-testid="chat-model">
              {models.map((m) => (
                <option key={m.name} value={m.name}>
                  {m.name} ({m.state})
                </option>
              ))}
            </select>
          </label>
          <button type="submit" className="primary" disabled={picked === '' || create.busy !== null} data-testid="new-chat">
            New chat
          </button>
          {models.length === 0 && <p className="muted small">No models yet.</p>}
          {create.error && <p className="form-error small">{create.error}</p>}
        </form>
        {error && <ErrorState message={error} onRetry={() => void reload()} />}
        <ul>
          {(chats ?? []).map((c) => (
            <li key={c.id}>
              <Link to={`/chat/${encodeURIComponent(c.id)}`} className={c.id === id ? 'active' : ''} data-testid="chat-link">
                {c.title}
                <span className="muted small"> · {c.model}</span>
              </Link>
            </li>
          ))}
        </ul>
      </aside>
      {id ? (
        <Conversation key={id} id={id} onChanged={() => void reload()} />
      ) : (
        <section className="conversation empty-conversation">
          <p className="muted">Pick a conversation, or start one with a model. A stopped model starts when you send.</p>
        </section>
      )}
    </div>
  )
}
