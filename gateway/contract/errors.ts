/** The one catalogue of the gateway's own error codes (ARCHITECTURE.md "Errors"). */
export const ErrorStatus = {
  invalid_json: 400,
  invalid_request: 400,
  duplicate_member: 400,
  duplicate_header: 400,
  invalid_api_key: 401,
  model_not_allowed: 403,
  scope_not_allowed: 403,
  ip_not_allowed: 403,
  host_not_allowed: 403,
  origin_not_allowed: 403,
  not_found: 404,
  model_not_found: 404,
  model_managed_by_config: 409,
  body_too_large: 413,
  rate_limit_exceeded: 429,
  upstream_unreachable: 502,
  model_loading: 503,
  model_start_failed: 503,
  queue_full: 503,
  queue_timeout: 503,
  docker_unavailable: 503,
  shutting_down: 503,
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
