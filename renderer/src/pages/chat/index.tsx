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
import { selectIsAdmin, selectModelIds } from '../../store/selectors.js'
import { formatCount } from '../../units.js'
import { Conversation } from './Conversation.js'
import { ModelStarting } from './ModelStarting.js'
import { Search } from './Search.js'
import './chat.css'
import './markdown.css'

export const loader = starts(loadModels)

/** The playground: conversations kept on the server (per user), a model picker, search, and the conversation itself. */
export function Component() {
  const { id } = useParams()
  const [chats, setChats] = useState<ChatView[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const ids = useStore(useShallow(selectModelIds))
  const all = useStore((s) => s.models)
  const isAdmin = useStore(selectIsAdmin)
  const models = ids.map((mid) => ({
    id: mid,
    name: all[mid]!.name,
    state: all[mid]!.status.state,
    context: all[mid]!.status.contextLength,
  }))
  const [model, setModel] = useState('')
  const create = useAction()
  const starting = useAction()
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

  // An admin who picks a stopped model starts it now, so it is loading while they write; anyone's send starts it too.
  const pick = (name: string) => {
    setModel(name)
    const m = models.find((x) => x.name === name)
    if (isAdmin && m !== undefined && (m.state === 'stopped' || m.state === 'failed'))
      void starting.run('start', () => api.startModel(m.id))
  }
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
            <span>Model of a new chat</span>
            <select value={picked} onChange={(e) => pick(e.target.value)} data-testid="chat-model">
              {models.map((m) => (
                <option key={m.name} value={m.name}>
                  {m.name} ({m.state}
                  {m.context === null ? '' : `, ${formatCount(m.context)} tokens of context`})
                </option>
              ))}
            </select>
          </label>
          {picked !== '' && <ModelStarting name={picked} waiting={false} />}
          <button type="submit" className="primary" disabled={picked === '' || create.busy !== null} data-testid="new-chat">
            New chat
          </button>
          {models.length === 0 && <p className="muted small">No models yet.</p>}
          {(create.error ?? starting.error) && <p className="form-error small">{create.error ?? starting.error}</p>}
        </form>
        <Search />
        {error && <ErrorState message={error} onRetry={() => void reload()} />}
        {chats?.length === 0 && <p className="muted small">No conversations yet.</p>}
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
        <Conversation
          key={id}
          id={id}
          models={models.map((m) => m.name)}
          onChanged={() => void reload()}
          onDeleted={() => {
            void reload()
            void navigate('/chat')
          }}
        />
      ) : (
        <section className="conversation empty-conversation">
          <p className="muted">Pick a conversation, or start one with a model. A stopped model starts when you send.</p>
        </section>
      )}
    </div>
  )
}
