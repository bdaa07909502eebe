import Type, { type Static } from 'typebox'
import type { DockerStatus } from './admin.js'

/**
 * The console's own part of the admin API: signing in, sessions, and what the first-run screen needs.
 * Sessions are cookies (HttpOnly, SameSite=Strict, named per instance); state-changing requests made with a session
 * also carry `x-cortex-csrf: <csrf>` and the gateway's own Origin.
 */

/** Who a console session belongs to. The admin token's sessions belong to the built-in admin user. */
export interface SessionUser {
  id: string
  name: string
  role: 'admin' | 'member'
  /** The user's organization's id; null for the built-in admin. */
  orgId: string | null
  /** True for the built-in admin user (the admin token's holder). */
  builtin: boolean
}

/** `POST /admin/api/auth/session`: a one-time code, the admin token, or a user's name and password. */
export const SignInBody = Type.Union([
  Type.Object({ code: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false }),
  Type.Object({ token: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false }),
  Type.Object(
    { name: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
    { additionalProperties: false },
  ),
])
export type SignInBody = Static<typeof SignInBody>

/** `POST` and `GET /admin/api/auth/session`: the signed-in user and the CSRF token to send back as `x-cortex-csrf`. */
export interface SessionView {
  user: SessionUser
  csrf: string
  /** Epoch ms; the expiry slides forward with use (7 days). */
  expiresAt: number
}

/** `POST /admin/api/auth/codes` (admin token): a one-time sign-in code, valid 5 minutes. */
export interface SignInCodeView {
  code: string
  /** `http://<host>:<port>/?code=…`, to open in a browser. */
  url: string
  expiresAt: number
}

/** `GET /admin/api/auth/sessions` (admins): every live session; `DELETE /admin/api/auth/sessions/{id}` ends one. */
export interface SessionListItem {
  /** A public id, not the cookie's secret. */
  id: string
  user: Pick<SessionUser, 'id' | 'name' | 'role'>
  createdAt: number
  lastSeenAt: number
  expiresAt: number
  userAgent: string | null
  address: string | null
  /** The session this request was made with. */
  current: boolean
}

/** `POST /admin/api/gguf/inspect`: a GGUF file on the machine Cortex runs on, read from its header. */
export const GgufInspectBody = Type.Object(
  { path: Type.String({ minLength: 1, maxLength: 4096 }) },
  { additionalProperties: false },
)
export type GgufInspectBody = Static<typeof GgufInspectBody>

export interface GgufInspectView {
  path: string
  sizeBytes: number
  /** `general.architecture`, e.g. "llama". */
  architecture: string
  /** `general.name`, when the file has one. */
  name: string | null
  /** Parameter count, from the tensor shapes. */
  parameters: number | null
  /** The file type as llama.cpp names it, e.g. "Q4_K_M". */
  quantization: string | null
  /** The context length the model was trained for. */
  contextLength: number | null
  /** GPU memory a CUDA llama-server would take for this file with its default settings (no args: `-c` unset, so
   *  the trained context for each of 4 slots, all layers offloaded), from models/estimate.ts; null when the header
   *  lacks what the estimate needs (a vocabulary-only file, an unknown layout). */
  gpuEstimate: GgufGpuEstimate | null
}

export interface GgufGpuEstimate {
  totalBytes: number
  weightsBytes: number
  kvCacheBytes: number
  computeBytes: number
  /** CUDA context and memory pool. */
  overheadBytes: number
  /** The context the figures are for: all slots together, and the slots. */
  contextTokens: number
  slots: number
  /** Assumptions the estimate made, in words. */
  notes: string[]
}

/** What `GET /admin/api/system` adds about Cortex itself (the first-run screen's checklist). */
export interface CortexInfo {
  version: string
  dataDir: string
  llamaServer: { found: boolean; path: string | null; version: string | null; howToGet: string }
  docker: DockerStatus
}
