import { useState, type FormEvent } from 'react'
import * as api from '../../api.js'
import { Empty, ErrorState, Loading } from '../../components/States.js'
import { useAction } from '../../components/useAction.js'
import { starts } from '../../routes.js'
import { useStore } from '../../store/index.js'
import { loadSettings, loadSystem } from '../../store/loaders.js'
import { dataOf } from '../../store/remote.js'
import { selectIsAdmin } from '../../store/selectors.js'
import './settings.css'

export const loader = starts(loadSettings, loadSystem)

/** Cortex-wide settings: the Hugging Face token (write-only), the HF cache, where the data lives, versions. */
export function Component() {
  const admin = useStore(selectIsAdmin)
  const settings = useStore((s) => s.settings)
  const system = useStore((s) => dataOf(s.system) ?? null)
  const [token, setToken] = useState('')
  const { busy, error, run } = useAction()
  const view = dataOf(settings)

  if (!admin)
    return (
      <Empty title="Only admins can change settings">
        <p>Ask an admin of this Cortex. Your own API keys are under Keys.</p>
      </Empty>
    )
  if (view === undefined || view === null) {
    if (settings.status === 'error')
      return <ErrorState title="Could not load the settings" message={settings.error} onRetry={() => void loadSettings()} />
    return <Loading label="Loading settings…" />
  }
  const save = (hfToken: string | null) =>
    run(hfToken === null ? 'clear' : 'save', async () => {
      useStore.setState({ settings: { status: 'ready', data: await api.putSettings({ hfToken }) } })
      setToken('')
    })
  const submit = (e: FormEvent) => {
    e.preventDefault()
    void save(token.trim())
  }
  const cortex = system?.cortex ?? null
  return (
    <section aria-labelledby="settings-title" className="settings">
      <h1 id="settings-title">Settings</h1>
      <form className="panel" onSubmit={submit} aria-labelledby="hf-title">
        <h2 id="hf-title">Hugging Face token</h2>
        <p className="muted">
          For gated and private models: vLLM containers get it as <code>HF_TOKEN</code>. It is write-only — never shown, logged or
          put in container labels.
        </p>
        <p>
          <span className={`badge ${view.hfToken.set ? 'badge-running' : ''}`} data-testid="hf-state">
            {view.hfToken.set ? 'Set' : 'Not set'}
          </span>{' '}
          {view.hfToken.set ? 'A token is saved; its value is never shown.' : 'No token is saved.'}
        </p>
        <div className="form-row">
          <label className="field">
            <span>{view.hfToken.set ? 'Replace the token' : 'Token'}</span>
            <input
              type="password"
              autoComplete="off"
              value={token}
              onChange={(e) => setToken(e.target.value)}
              placeholder="hf_…"
              required
              data-testid="hf-token"
            />
          </label>
        </div>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="primary" disabled={busy !== null} data-testid="hf-save">
            {busy === 'save' ? 'Saving…' : 'Save token'}
          </button>
          {view.hfToken.set && (
            <button type="button" disabled={busy !== null} onClick={() => void save(null)} data-testid="hf-clear">
              {busy === 'clear' ? 'Clearing…' : 'Clear token'}
            </button>
          )}
        </div>
      </form>
      <section className="panel" aria-labelledby="about-title">
        <h2 id="about-title">This Cortex</h2>
        <dl className="facts">
          <div>
            <dt>Version</dt>
            <dd data-testid="cortex-version">{cortex?.version ?? '—'}</dd>
          </div>
          <div className="wide">
            <dt>Data directory</dt>
            <dd className="mono" data-testid="data-dir">
              {cortex?.dataDir ?? '—'}
            </dd>
          </div>
          <div className="wide">
            <dt>llama-server version</dt>
            <dd data-testid="llama-version">
              {cortex === null ? '—' : cortex.llamaServer.found ? (cortex.llamaServer.version ?? 'unknown') : 'not found'}
            </dd>
          </div>
          <div className="wide">
            <dt>llama-server</dt>
            <dd className="mono">{cortex?.llamaServer.path ?? '—'}</dd>
          </div>
          <div className="wide">
            <dt>Hugging Face cache</dt>
            <dd className="mono">{view.hfCache ?? '~/.cache/huggingface (default)'}</dd>
          </div>
        </dl>
      </section>
    </section>
  )
}
