import type { ReactNode } from 'react'

/** The loading, empty and error states every view shows (STYLE.md §7b); each has a component test. */

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite" data-testid="state-loading">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  )
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty" data-testid="state-empty">
      <p className="state-title">{title}</p>
      {children && <div className="state-body">{children}</div>}
    </div>
  )
}

/** A refusal or failure: the gateway's message says what to fix, so it is shown as is. */
export function ErrorState({
  title = 'Something went wrong',
  message,
  onRetry,
}: {
  title?: string
  message: string
  onRetry?: () => void
}) {
  return (
    <div className="state state-error" role="alert" data-testid="state-error">
      <p className="state-title">{title}</p>
      <p className="state-body">{message}</p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  )
}

/** A route the connected gateway does not have yet: not an error, a version gap. */
export function NeedsNewerGateway({ feature }: { feature: string }) {
  return (
    <div className="state state-missing" data-testid="state-missing">
      <p className="state-title">{feature} needs a newer Cortex</p>
      <p className="state-body">The gateway this console talks to does not offer it yet. Update Cortex and reload this page.</p>
    </div>
  )
}
