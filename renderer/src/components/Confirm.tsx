import { useState, type ReactNode } from 'react'

/** A destructive action asks once more in place: no modal, no window.confirm. */
export function ConfirmButton({
  label,
  question,
  confirmLabel,
  onConfirm,
  disabled,
  testId,
}: {
  label: string
  question: ReactNode
  confirmLabel: string
  onConfirm: () => void
  disabled?: boolean
  testId?: string
}) {
  const [asking, setAsking] = useState(false)
  if (!asking) {
    return (
      <button type="button" className="danger-quiet" disabled={disabled} onClick={() => setAsking(true)} data-testid={testId}>
        {label}
      </button>
    )
  }
  return (
    <span className="confirm" role="group" aria-label="Confirm">
      <span className="confirm-question">{question}</span>
      <button
        type="button"
        className="danger"
        onClick={() => {
          setAsking(false)
          onConfirm()
        }}
        data-testid={testId ? `${testId}-confirm` : undefined}
      >
        {confirmLabel}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  )
}
