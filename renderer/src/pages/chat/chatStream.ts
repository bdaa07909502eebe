import type { ChatStreamEvent } from '../../../../gateway/contract/index.js'

/** The answer stream's events, as the gateway sends them (`event:` + `data:` frames), from a fetch response body. */
export async function* chatEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ChatStreamEvent> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffered = ''
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      buffered = (buffered + decoder.decode(value, { stream: true })).replace(/\r\n/g, '\n')
      let end
      while ((end = buffered.indexOf('\n\n')) !== -1) {
        const frame = buffered.slice(0, end)
        buffered = buffered.slice(end + 2)
        const data = frame
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(l.startsWith('data: ') ? 6 : 5))
          .join('\n')
        const type = /^event: ?(.*)$/m.exec(frame)?.[1]
        if (data === '' || type === undefined) continue
        yield { type, ...(JSON.parse(data) as object) } as ChatStreamEvent
      }
    }
  } finally {
    reader.releaseLock()
  }
}
