import type { ErrorCode } from '../../contract/errors.js'
import type { Usage } from '../usage.js'
import type { Dialect } from './types.js'

const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null)

/**
 * Anthropic's Messages API: `message_start` carries the prompt's tokens in `message.usage`, `message_delta` the
 * output's (a running total) in `usage`; output arrives in `content_block_delta` events.
 */
export const anthropic: Dialect = {
  name: 'anthropic',

  carriesToken: (event) => event.type === 'content_block_delta',

  usage(event, current): Usage | null {
    const message = event.message as Record<string, unknown> | undefined
    const raw = (event.type === 'message_start' && message != null ? message.usage : event.usage) as
      Record<string, unknown> | undefined
    if (raw == null || typeof raw !== 'object') return current
    const prompt = count(raw.input_tokens)
    const completion = count(raw.output_tokens)
    if (prompt === null && completion === null) return current
    return {
      promptTokens: prompt ?? current?.promptTokens ?? null,
      completionTokens: completion ?? current?.completionTokens ?? null,
    }
  },

  errorFrame(_code: ErrorCode, message: string): Buffer {
    const body = JSON.stringify({ type: 'error', error: { type: 'api_error', message } })
    return Buffer.from(`event: error\ndata: ${body}\n\n`)
  },
}
