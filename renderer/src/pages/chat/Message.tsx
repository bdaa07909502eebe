import type { ReactNode } from 'react'
import type { ChatMessageView } from '../../../../gateway/contract/index.js'
import { CopyButton } from '../../components/CopyButton.js'
import { formatCount, formatDuration, formatRate } from '../../units.js'
import { Markdown } from './Markdown.js'
import { splitReasoning } from './thread.js'

/**
 * One message. A person's text is shown as written; an answer as Markdown made of React elements (Markdown.tsx), so
 * nothing a model writes is HTML here and nothing it writes can run. Its reasoning folds away.
 */
export function Message({ m, live, actions }: { m: ChatMessageView; live?: boolean; actions?: ReactNode }) {
  const f = m.figures
  const { reasoning, text } = m.role === 'assistant' ? splitReasoning(m) : { reasoning: null, text: m.content }
  return (
    <article
      className={`message message-${m.role}`}
      data-testid={`message-${m.role}`}
      data-state={m.state}
      aria-label={m.role === 'user' ? 'You' : (m.model ?? 'Answer')}
    >
      <div className="message-head">
        <strong>{m.role === 'user' ? 'You' : (m.model ?? 'Answer')}</strong>
        <span className="message-actions">
          {actions}
          {text !== '' && <CopyButton text={text} />}
        </span>
      </div>
      {reasoning !== null && (
        <details className="reasoning" data-testid="reasoning">
          <summary>{live && text === '' ? 'Reasoning…' : 'Reasoning'}</summary>
          <p className="message-text">{reasoning}</p>
        </details>
      )}
      {m.role === 'user' ? (
        <p className="message-text" data-testid="message-text">
          {text}
        </p>
      ) : (
        <div className="message-answer" data-testid="message-text">
          <Markdown text={text} />
          {live && <span className="cursor" aria-hidden="true" />}
        </div>
      )}
      {m.state === 'cut_off' && (
        <p className="muted small" data-testid="cut-off">
          Cut off: stopped before the end, what had arrived is kept.
        </p>
      )}
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
