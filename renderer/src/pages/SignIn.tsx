import { useState, type FormEvent } from 'react'
import { useNow } from '../components/useNow.js'
import { useStore } from '../store/index.js'
import { submitSignIn } from '../store/session.js'

type Method = 'token' | 'password'

/** Shown in place of any page while signed out; the one-time link signs in before this page is needed. */
export function SignIn() {
  const session = useStore((s) => s.session)
  const [method, setMethod] = useState<Method>('token')
  const [busy, setBusy] = useState(false)
  const now = useNow(1000)
  const error = session.status === 'signed-out' ? session.error : null
  const retryAt = session.status === 'signed-out' ? session.retryAt : null
  const waitS = retryAt === null ? 0 : Math.ceil((retryAt - now) / 1000)

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    const form = new FormData(e.currentTarget)
    const text = (name: string) => String(form.get(name) ?? '')
    setBusy(true)
    await submitSignIn(
      method === 'token' ? { token: text('token').trim() } : { name: text('name').trim(), password: text('password') },
    )
    setBusy(false)
  }

  return (
    <main className="signin" data-testid="sign-in">
      <form className="signin-card" onSubmit={(e) => void submit(e)} aria-labelledby="signin-title">
        <h1 id="signin-title">
          <span className="brand-mark" aria-hidden="true" /> Sign in to Cortex
        </h1>
        <p className="muted">
          The quickest way in is the one-time link <code>cortex serve</code> printed next to “listening”. Or sign in here:
        </p>
        <div className="segmented" role="tablist" aria-label="How to sign in">
          {(['token', 'password'] as const).map((m) => (
            <button
              key={m}
              type="button"
              role="tab"
              aria-selected={method === m}
              className={method === m ? 'active' : ''}
              onClick={() => setMethod(m)}
              data-testid={`signin-method-${m}`}
            >
              {m === 'token' ? 'Admin token' : 'Name and password'}
            </button>
          ))}
        </div>
        {method === 'token' ? (
          <label className="field">
            <span>Admin token</span>
            <input name="token" type="password" autoComplete="off" required autoFocus data-testid="signin-token-input" />
            <small className="muted">
              <code>CORTEX_ADMIN_TOKEN</code>, or the file <code>admin-token</code> in Cortex’s data directory (
              <code>~/.local/share/cortex</code> by default).
            </small>
          </label>
        ) : (
          <>
            <label className="field">
              <span>Name</span>
              <input name="name" autoComplete="username" required autoFocus data-testid="signin-name" />
            </label>
            <label className="field">
              <span>Password</span>
              <input name="password" type="password" autoComplete="current-password" required data-testid="signin-password" />
            </label>
          </>
        )}
        {error && (
          <p className="form-error" role="alert" data-testid="signin-error">
            {error}
            {waitS > 0 && ` Try again in ${waitS} s.`}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy || waitS > 0} data-testid="signin-submit">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  )
}
