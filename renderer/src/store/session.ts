/** Signing in and out: the session slice, written from here only. The CSRF token lives in the store, never storage. */
import type { SessionView, SignInBody } from '../../../gateway/contract/index.js'
import { ApiError, connectSession, getSession, signIn, signOut } from '../api.js'
import { useStore } from './index.js'
import { initialState } from './slices.js'

connectSession(
  () => {
    const s = useStore.getState().session
    return s.status === 'signed-in' ? s.csrf : null
  },
  () => endSession('Your session ended: sign in again.'),
)

const listeners = new Set<() => void>()
/** Runs `fn` after every sign-in (start the events stream, reload the screen's data). */
export function onSignedIn(fn: () => void): () => void {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

function begin(view: SessionView): void {
  useStore.setState({ session: { status: 'signed-in', user: view.user, csrf: view.csrf, expiresAt: view.expiresAt } })
  for (const fn of listeners) fn()
}

function refused(err: unknown, now: number) {
  const retryAfter = err instanceof ApiError ? err.retryAfterSeconds : null
  return {
    status: 'signed-out' as const,
    error: err instanceof Error ? err.message : String(err),
    retryAt: retryAfter === null ? null : now + retryAfter * 1000,
  }
}

/**
 * At load: a `?code=` from the one-time link is exchanged and then taken out of the address bar (it is single use, and
 * a copied address must not carry it); without one, the cookie's session is asked for.
 */
export async function restoreSession(location: Location = window.location, history: History = window.history): Promise<void> {
  const url = new URL(location.href)
  const code = url.searchParams.get('code')
  if (code !== null) {
    url.searchParams.delete('code')
    history.replaceState(history.state, '', `${url.pathname}${url.search}${url.hash}`)
    await submitSignIn({ code })
    return
  }
  try {
    begin(await getSession())
  } catch (err) {
    const quiet = err instanceof ApiError && err.status === 401
    useStore.setState({ session: quiet ? { status: 'signed-out', error: null, retryAt: null } : refused(err, Date.now()) })
  }
}

/** The sign-in form and the one-time link: a refusal's message (and a throttle's Retry-After) goes to the page. */
export async function submitSignIn(body: SignInBody): Promise<void> {
  try {
    begin(await signIn(body))
  } catch (err) {
    useStore.setState({ session: refused(err, Date.now()) })
  }
}

/** Signs out on the gateway, then forgets everything this session showed. */
export async function submitSignOut(): Promise<void> {
  try {
    await signOut()
  } finally {
    endSession(null)
  }
}

/** The session is over (signed out, or a 401): clear every slice so the next user sees nothing of this one. */
export function endSession(error: string | null): void {
  if (useStore.getState().session.status === 'signed-out') return
  useStore.setState({ ...initialState(), session: { status: 'signed-out', error, retryAt: null } }, true)
  for (const fn of endListeners) fn()
}

const endListeners = new Set<() => void>()
export function onSignedOut(fn: () => void): () => void {
  endListeners.add(fn)
  return () => endListeners.delete(fn)
}
