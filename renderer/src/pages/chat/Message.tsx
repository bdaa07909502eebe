import type { ChatMessageView } from '../../../../gateway/contract/index.js'
import { CopyButton } from '../../components/CopyButton.js'
import { formatCount, formatDuration, formatRate } from '../../units.js'

/** One message. Text is shown as text: nothing a model writes is markup here, so nothing it writes can run. */
export function Message({ m, live }: { m: ChatMessageView; live?: boolean }) {
  const f = m.figures
  return (
    <article
      className={`message message-${m.role}`}
      data-testid={`message-${m.role}`}
      data-state={m.state}
      aria-label={m.role === 'user' ? 'You' : (m.model ?? 'Answer')}
    >
      <div className="message-head">
        <strong>{m.role === 'user' ? 'You' : (m.model ?? 'Answer')}</strong>
        {m.content !== '' && <CopyButton text={m.content} />}
      </div>
      {m.reasoning && (
        <details className="reasoning">
          <summary>Reasoning</summary>
          <p className="message-text">{m.reasoning}</p>
        </details>
      )}
      <p className="message-text" data-testid="message-text">
        {m.content}
        {live && <span className="cursor" aria-hidden="true" />}
      </p>
      {m.state === 'cut_off' && <p className="muted small">Stopped: what had arrived is kept.</p>}
      {m.state === 'failed' && (
        <p className="form-error small" role="alert">
          {m.error}
        </p>
      )}
      {m.role === 'assistant' && f && (
        <p className="figures muted small" data-testid="figures">
          first token {formatDuration(f.ttftMs)} · {formatRate(f.decodeTokensPerSecond)} · {formatCount(f.promptTokens)} in ·{' '}
          {formatCount(f.completionTokens)} out
        </p>
      )}
    </article>
  )
}
