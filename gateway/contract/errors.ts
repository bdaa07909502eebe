/** The one catalogue of the gateway's own error codes (ARCHITECTURE.md "Errors"). */
export const ErrorStatus = {
  bad_request: 400,
  invalid_json: 400,
  invalid_request: 400,
  context_length_exceeded: 400,
  duplicate_member: 400,
  duplicate_header: 400,
  invalid_api_key: 401,
  sign_in_failed: 401,
  model_not_allowed: 403,
  scope_not_allowed: 403,
  ip_not_allowed: 403,
  host_not_allowed: 403,
  origin_not_allowed: 403,
  csrf_token_invalid: 403,
  role_not_allowed: 403,
  not_found: 404,
  model_not_found: 404,
  request_timeout: 408,
  model_managed_by_config: 409,
  route_managed_by_config: 409,
  name_taken: 409,
  body_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  rate_limit_exceeded: 429,
  too_many_sign_ins: 429,
  headers_too_large: 431,
  upstream_unreachable: 502,
  model_loading: 503,
  model_start_failed: 503,
  model_unavailable: 503,
  queue_full: 503,
  queue_timeout: 503,
  docker_unavailable: 503,
  shutting_down: 503,
  gateway_paused: 503,
  too_many_connections: 503,
  upstream_timeout: 504,
  internal_error: 500,
} as const

export type ErrorCode = keyof typeof ErrorStatus

export class CortexError extends Error {
  readonly status: number
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: { param?: string; retryAfterSeconds?: number } & Record<string, unknown>,
  ) {
    super(message)
    this.name = 'CortexError'
    this.status = ErrorStatus[code]
  }
}

/**
 * A value a client sent, as a message repeats it: JSON-quoted (control characters escaped) and cut to `max`
 * characters, saying how long it was — `"mmmm…" (1000000 characters)`. Messages that echo input use it.
 */
export function quoted(value: string, max = 200): string {
  if (value.length <= max) return JSON.stringify(value)
  return `${JSON.stringify(value.slice(0, max)).slice(0, -1)}…" (${value.length} characters)`
}
