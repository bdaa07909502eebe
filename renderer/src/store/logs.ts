/** A model's log, followed live while its log view is open (the one stream besides /events). */
import { modelLogsUrl } from '../api.js'
import { useStore } from './index.js'
import { MAX_LOG_LINES } from './slices.js'
import { type EventSourceFactory, ReconnectingStream } from './stream.js'

let current: { id: string; stream: ReconnectingStream } | null = null

/** Follows `id`'s log into the store; returns the function that stops it (a view's effect cleanup). */
export function followLogs(id: string, factory?: EventSourceFactory): () => void {
  stopLogs()
  useStore.setState({ logs: { id, lines: [], status: 'connecting', error: null } })
  const stream = new ReconnectingStream({
    url: modelLogsUrl(id),
    types: ['message'],
    onMessage: (_type, line) =>
      useStore.setState((s) => {
        if (s.logs?.id !== id) return {}
        const lines = s.logs.lines.length >= MAX_LOG_LINES ? s.logs.lines.slice(-MAX_LOG_LINES + 1) : s.logs.lines.slice()
        lines.push(line)
        return { logs: { ...s.logs, lines } }
      }),
    onState: (status) =>
      useStore.setState((s) => {
        if (s.logs?.id !== id) return {}
        // Each connection begins with the log's tail again: start from it rather than repeat lines.
        return { logs: { ...s.logs, status, lines: status === 'open' ? [] : s.logs.lines } }
      }),
    ...(factory ? { factory } : {}),
  }).start()
  current = { id, stream }
  return () => {
    if (current?.stream === stream) stopLogs()
  }
}

export function stopLogs(): void {
  current?.stream.stop()
  current = null
  useStore.setState({ logs: null })
}
