import { useState, type KeyboardEvent } from 'react'
import { Link } from 'react-router'
import * as api from '../../api.js'
import { CopyButton } from '../../components/CopyButton.js'
import { useAction } from '../../components/useAction.js'
import { snippets } from './snippets.js'

/** The /v1 base URL, a key made on the spot (shown once), and snippets for the usual clients. */
export function Connect({ model }: { model: string | null }) {
  const origin = window.location.origin
  const [key, setKey] = useState<string | null>(null)
  const [name, setName] = useState('my-first-key')
  const [tab, setTab] = useState('curl')
  const { busy, error, run } = useAction()
  const all = snippets(origin, key, model)
  const shown = all.find((s) => s.id === tab) ?? all[0]!
  // The tab pattern: one tab stop for the list, arrows move between clients.
  const moveTab = (e: KeyboardEvent) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key]
    if (step === undefined) return
    e.preventDefault()
    const next = all[(all.indexOf(shown) + step + all.length) % all.length]!
    setTab(next.id)
    document.getElementById(`snippet-tab-${next.id}`)?.focus()
  }

  return (
    <section className="panel" aria-labelledby="connect-title">
      <h2 id="connect-title">Point your tools at Cortex</h2>
      <p>
        Base URL <code data-testid="base-url">{origin}/v1</code> <CopyButton text={`${origin}/v1`} />
      </p>
      {key === null ? (
        <form
          className="form-row key-form"
          onSubmit={(e) => {
            e.preventDefault()
            void run('key', async () => setKey((await api.createKey({ name: name.trim() })).key))
          }}
        >
          <label className="field">
            <span>Key name</span>
            <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={64} data-testid="key-name" />
          </label>
          <button type="submit" className="primary" disabled={busy !== null} data-testid="create-key">
            {busy ? 'Creating…' : 'Create an API key'}
          </button>
        </form>
      ) : (
        <div className="secret" data-testid="new-key">
          <code data-testid="new-key-value">{key}</code>
          <CopyButton text={key} />
        </div>
      )}
      {key !== null && (
        <p className="notice" role="status" data-testid="key-once">
          Copy this key now: Cortex keeps only its hash and cannot show it again. It is listed, and can be revoked, under{' '}
          <Link to="/keys">Keys</Link>.
        </p>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="segmented" role="tablist" aria-label="Client" onKeyDown={moveTab}>
        {all.map((s) => (
          <button
            key={s.id}
            id={`snippet-tab-${s.id}`}
            type="button"
            role="tab"
            aria-selected={s.id === shown.id}
            aria-controls="snippet-panel"
            tabIndex={s.id === shown.id ? 0 : -1}
            className={s.id === shown.id ? 'active' : ''}
            onClick={() => setTab(s.id)}
            data-testid={`snippet-${s.id}`}
          >
            {s.label}
          </button>
        ))}
      </div>
      <div className="snippet" role="tabpanel" id="snippet-panel" aria-labelledby={`snippet-tab-${shown.id}`}>
        <pre className="mono" tabIndex={0} data-testid="snippet-code">
          {shown.code}
        </pre>
        <CopyButton text={shown.code} />
      </div>
      {shown.note && <p className="muted small">{shown.note}</p>}
    </section>
  )
}
