import type { ErrorCode } from '../../contract/errors.js'
import { toUsage, type Usage } from '../usage.js'
import type { Dialect } from './types.js'

const nonEmpty = (v: unknown) => (typeof v === 'string' && v.length > 0) || (Array.isArray(v) && v.length > 0)

/** Output events of the Responses API: text, reasoning and tool-call argument deltas. */
const RESPONSE_DELTAS = new Set([
  'response.output_text.delta',
  'response.reasoning_text.delta',
  'response.reasoning_summary_text.delta',
  'response.function_call_arguments.delta',
  'response.refusal.delta',
])

/** OpenAI's chat and completions chunks, and the Responses API's typed events. */
export const openai: Dialect = {
  name: 'openai',

  carriesToken(event) {
    if (typeof event.type === 'string') return RESPONSE_DELTAS.has(event.type) && nonEmpty(event.delta)
    if (!Array.isArray(event.choices)) return false
    return event.choices.some((c: Record<string, unknown> | null) => {
      if (c === null || typeof c !== 'object') return false
      const d = c.delta as Record<string, unknown> | undefined
      return (
        nonEmpty(c.text) ||
        (d != null && (nonEmpty(d.content) || nonEmpty(d.reasoning_content) || nonEmpty(d.reasoning) || nonEmpty(d.tool_calls)))
      )
    })
  },

  usage(event, current): Usage | null {
    // Chat and completions put it on the chunk; the Responses API inside `response` of response.completed.
    const response = event.response as Record<string, unknown> | undefined
    return toUsage(event.usage) ?? (response != null && typeof response === 'object' ? toUsage(response.usage) : null) ?? current
  },

  errorFrame(code: ErrorCode, message: string): Buffer {
    return Buffer.from(`data: ${JSON.stringify({ error: { message, type: 'server_error', param: null, code } })}\n\n`)
  },
}
