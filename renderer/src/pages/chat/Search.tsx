import { useState, type FormEvent } from 'react'
import { Link } from 'react-router'
import type { ChatSearchHit } from '../../../../gateway/contract/index.js'
import * as api from '../../api.js'
import { useAction } from '../../components/useAction.js'

/** Search across all of this user's messages (the gateway's full-text index); each hit opens its conversation. */
export function Search() {
  const [q, setQ] = useState('')
  const [hits, setHits] = useState<{ q: string; list: ChatSearchHit[] } | null>(null)
  const act = useAction()
  const submit = (e: FormEvent) => {
    e.preventDefault()
    const query = q.trim()
    if (query === '') return setHits(null)
    void act.run('search', async () => setHits({ q: query, list: await api.searchChats(query) }))
  }
  return (
    <div className="chat-search">
      <form role="search" onSubmit={submit}>
        <label className="visually-hidden" htmlFor="chat-search">
          Search messages
        </label>
        <input
          id="chat-search"
          type="search"
          value={q}
          onChange={(e) => setQ(e.target.value)}
          placeholder="Search messages"
          maxLength={500}
          data-testid="chat-search"
        />
      </form>
      {act.error && (
        <p className="form-error small" role="alert">
          {act.error}
        </p>
      )}
      {hits && (
        <div className="search-hits" data-testid="search-hits">
          <p className="muted small">
            {hits.list.length === 0 ? `Nothing found for “${hits.q}”.` : `${hits.list.length} found for “${hits.q}”:`}{' '}
            <button type="button" className="quiet small" onClick={() => (setHits(null), setQ(''))}>
              Clear
            </button>
          </p>
          <ul>
            {hits.list.map((h) => (
              <li key={h.messageId}>
                <Link to={`/chat/${encodeURIComponent(h.chatId)}`} data-testid="search-hit">
                  <strong>{h.chatTitle}</strong>
                  <span className="small muted"> · {h.role === 'user' ? 'you' : 'answer'}</span>
                  <span className="snippet small">{h.snippet}</span>
                </Link>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  )
}
