import { useEffect, useMemo, useRef, useState } from 'react'
import { CopyButton } from '../../components/CopyButton.js'
import { useStore } from '../../store/index.js'
import { followLogs } from '../../store/logs.js'

const STATUS = { connecting: 'Connecting…', open: 'Following', reconnecting: 'Reconnecting…', error: 'Stopped' } as const

/** The model's engine output, following live while open: pause holds the view still, search filters the lines. */
export function LogView({ id }: { id: string }) {
  useEffect(() => followLogs(id), [id])
  const logs = useStore((s) => (s.logs?.id === id ? s.logs : null))
  const [paused, setPaused] = useState<string[] | null>(null)
  const [query, setQuery] = useState('')
  const box = useRef<HTMLPreElement>(null)
  const lines = paused ?? logs?.lines ?? []
  const shown = useMemo(() => {
    const q = query.trim().toLowerCase()
    return q === '' ? lines : lines.filter((l) => l.toLowerCase().includes(q))
  }, [lines, query])

  // Stay at the bottom while following, as a terminal does.
  useEffect(() => {
    if (paused === null && box.current) box.current.scrollTop = box.current.scrollHeight
  }, [shown, paused])

  return (
    <section className="panel logs" aria-labelledby="logs-title">
      <div className="logs-head">
        <h2 id="logs-title">Log</h2>
        <span className="muted small" data-testid="logs-status">
          {paused !== null ? 'Paused' : logs ? STATUS[logs.status] : 'Connecting…'}
          {logs?.error ? ` — ${logs.error}` : ''}
        </span>
        <span className="spacer" />
        <label className="logs-search">
          <span className="visually-hidden">Search the log</span>
          <input
            type="search"
            placeholder="Search"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            data-testid="logs-search"
          />
        </label>
        <button
          type="button"
          onClick={() => setPaused(paused === null ? [...(logs?.lines ?? [])] : null)}
          data-testid="logs-pause"
        >
          {paused === null ? 'Pause' : 'Resume'}
        </button>
        <CopyButton text={shown.join('\n')} label="Copy" />
      </div>
      <pre className="log-lines" ref={box} tabIndex={0} aria-label="Engine output" data-testid="log-lines">
        {shown.length === 0 ? (query ? 'No line matches.' : 'No output yet.') : shown.join('\n')}
      </pre>
    </section>
  )
}
