import type { ErrorCode } from '../../contract/errors.js'
import type { Usage } from '../usage.js'

/**
 * What differs between the APIs the gateway forwards (OpenAI's and Anthropic's): how their streamed events carry
 * output and usage, and how an error reaches a client mid-stream. Routing fields, body edits and the relay itself are
 * shared; a new API is a new Dialect, not a branch inside the proxy.
 */
export interface Dialect {
  readonly name: 'openai' | 'anthropic'
  /** Whether a parsed stream event carries generated output (the first one marks the time to first token). */
  carriesToken(event: Record<string, unknown>): boolean
  /** The usage the stream has reported so far, given one more event (`current` when the event says nothing). */
  usage(event: Record<string, unknown>, current: Usage | null): Usage | null
  /** The last frame of a stream the engine broke off. */
  errorFrame(code: ErrorCode, message: string): Buffer
}
