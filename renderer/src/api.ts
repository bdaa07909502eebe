/**
 * The one client of the gateway's admin API (STYLE.md §7b): one typed function per route, built on the contract's
 * types. Requests carry the session cookie (`credentials: 'same-origin'`) and, when they change state, the session's
 * CSRF token as `x-cortex-csrf` — the gateway refuses a cookie-only write (cookies are not isolated by port).
 */
import type {
  ApiKeyView,
  ChatCreateBody,
  ChatDetail,
  ChatPatchBody,
  ChatSearchHit,
  ChatSendBody,
  ChatView,
  ChatMessageView,
  CortexInfo,
  DryRunView,
  GgufInspectView,
  ImageView,
  GpusResponse,
  KeyCreateBody,
  KeyCreated,
  OrgCreateBody,
  OrgView,
  ModelCreateBody,
  ModelPatchBody,
  ModelStateView,
  ModelView,
  RecipeCreateBody,
  RecipeView,
  SessionListItem,
  SessionView,
  SettingsPutBody,
  SettingsView,
  SignInBody,
  SystemResponse,
  UsageGroupBy,
  UsageReport,
  UserCreateBody,
  UserView,
} from '../../gateway/contract/index.js'

export const API = '/admin/api'

/** A refusal in the gateway's envelope, or a network failure (status 0). `message` says what to fix. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | null,
    message: string,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/** Where the CSRF token comes from (the session slice); set once by the store so this module imports no store. */
let csrfSource: () => string | null = () => null
/** Told about every 401, so that an expired session shows the sign-in page wherever it is noticed. */
let onUnauthorized: () => void = () => {}

export function connectSession(csrf: () => string | null, unauthorized: () => void): void {
  csrfSource = csrf
  onUnauthorized = unauthorized
}

interface Envelope {
  error?: { message?: string; type?: string; code?: string | null; param?: string | null }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  const csrf = csrfSource()
  if (method !== 'GET' && csrf !== null) headers['x-cortex-csrf'] = csrf
  let res: Response
  try {
    res = await fetch(`${API}${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  } catch (err) {
    throw new ApiError(0, null, `Cortex did not answer (${err instanceof Error ? err.message : String(err)}): is it running?`)
  }
  if (res.status === 204) return undefined as T
  const text = await res.text()
  const parsed = parse(text)
  if (res.ok) return parsed as T
  const error = (parsed as Envelope | null)?.error
  const retry = Number(res.headers.get('retry-after'))
  const apiError = new ApiError(
    res.status,
    error?.code ?? null,
    error?.message ?? `${method} ${API}${path} answered ${res.status}`,
    Number.isFinite(retry) && retry > 0 ? retry : null,
  )
  // A failed sign-in is also a 401, but there is no session to end; and a request sent before this session began
  // (a screen loading while the sign-in ran) says nothing about it.
  if (res.status === 401 && !path.startsWith('/auth/') && csrf !== null && csrf === csrfSource()) onUnauthorized()
  throw apiError
}

function parse(text: string): unknown {
  if (text === '') return null
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

const enc = encodeURIComponent

/** A route the connected gateway lacks (an older version): the screen says so instead of showing an error. */
export const isMissingRoute = (err: unknown): boolean => err instanceof ApiError && err.status === 404 && err.code === 'not_found'

// Sign-in and sessions.
export const signIn = (body: SignInBody) => request<SessionView>('POST', '/auth/session', body)
export const getSession = () => request<SessionView>('GET', '/auth/session')
export const signOut = () => request<void>('DELETE', '/auth/session')
export const listSessions = () => request<SessionListItem[]>('GET', '/auth/sessions')
export const revokeSession = (id: string) => request<void>('DELETE', `/auth/sessions/${enc(id)}`)

// Models.
export type AnyModelView = ModelView | ModelStateView
export const listModels = () => request<{ data: AnyModelView[] }>('GET', '/models')
export const getModel = (id: string) => request<AnyModelView>('GET', `/models/${enc(id)}`)
export const createModel = (body: ModelCreateBody | RecipeCreateBody) => request<ModelView>('POST', '/models', body)
export const patchModel = (id: string, body: ModelPatchBody) => request<ModelView>('PATCH', `/models/${enc(id)}`, body)
export const deleteModel = (id: string) => request<void>('DELETE', `/models/${enc(id)}`)
export const startModel = (id: string) => request<ModelView>('POST', `/models/${enc(id)}/start`)
export const stopModel = (id: string) => request<ModelView>('POST', `/models/${enc(id)}/stop`)
export const pinModel = (id: string, pinned: boolean) =>
  request<ModelView>('POST', `/models/${enc(id)}/${pinned ? 'pin' : 'unpin'}`)
export const dryRunModel = (id: string) => request<DryRunView>('POST', `/models/${enc(id)}/dry-run`)
export const dryRunDefinition = (body: ModelCreateBody) => request<DryRunView>('POST', '/dry-run', body)
export const inspectGguf = (path: string) => request<GgufInspectView>('POST', '/gguf/inspect', { path })
export const listRecipes = () => request<{ data: RecipeView[] }>('GET', '/recipes')
/** The SSE address of a model's log, following new lines. */
export const modelLogsUrl = (id: string) => `${API}/models/${enc(id)}/logs?follow=1`
export const listImages = () => request<{ data: ImageView[] }>('GET', '/images')
export const loadImage = (path: string) => request<{ images: string[] }>('POST', '/images/load', { path })
export const pullImage = (image: string) => request<{ image: string }>('POST', '/images/pull', { image })
export const EVENTS_URL = `${API}/events`

// The machine.
/** `cortex` arrives with newer gateways (null where the core gives none); older ones leave it out. */
export type SystemView = Omit<SystemResponse, 'cortex'> & { cortex?: CortexInfo | null }
export const getSystem = (history = false) => request<SystemView>('GET', `/system${history ? '?history=1' : ''}`)
export const getGpus = (history = false) => request<GpusResponse>('GET', `/gpus${history ? '?history=1' : ''}`)

// Keys.
export const listKeys = () => request<ApiKeyView[]>('GET', '/keys')
export const createKey = (body: KeyCreateBody) => request<KeyCreated>('POST', '/keys', body)
export const revokeKey = (id: string) => request<ApiKeyView>('DELETE', `/keys/${enc(id)}`)

// Organizations and users (admins only).
export const listOrgs = () => request<OrgView[]>('GET', '/orgs')
export const createOrg = (body: OrgCreateBody) => request<OrgView>('POST', '/orgs', body)
export const listUsers = () => request<UserView[]>('GET', '/users')
export const createUser = (body: UserCreateBody) => request<UserView>('POST', '/users', body)

// Usage.
export interface UsageParams {
  groupBy: UsageGroupBy
  /** Epoch ms, inclusive. */
  from: number
  /** Epoch ms, exclusive. */
  to: number
}
const usageQuery = (p: UsageParams, format: 'json' | 'csv') =>
  `/usage?groupBy=${p.groupBy}&from=${Math.floor(p.from)}&to=${Math.floor(p.to)}&format=${format}`
export const getUsage = (p: UsageParams) => request<UsageReport>('GET', usageQuery(p, 'json'))
/** A plain link: the browser downloads it with the session cookie (a GET needs no CSRF token). */
export const usageCsvUrl = (p: UsageParams) => `${API}${usageQuery(p, 'csv')}`

// Settings.
export const getSettings = () => request<SettingsView>('GET', '/settings')
export const putSettings = (body: SettingsPutBody) => request<SettingsView>('PUT', '/settings', body)

// Chats (the playground): the answer comes as a stream the caller reads (chatStream.ts).
export const listChats = () => request<ChatView[]>('GET', '/chats')
export const createChat = (body: ChatCreateBody) => request<ChatView>('POST', '/chats', body)
export const getChat = (id: string) => request<ChatDetail>('GET', `/chats/${enc(id)}`)
export const deleteChat = (id: string) => request<void>('DELETE', `/chats/${enc(id)}`)
export const patchChat = (id: string, body: ChatPatchBody) => request<ChatView>('PATCH', `/chats/${enc(id)}`, body)
export const searchChats = (q: string) => request<ChatSearchHit[]>('GET', `/chats/search?q=${encodeURIComponent(q)}`)
/** A plain link: the browser downloads the file with the session cookie (a GET needs no CSRF token). */
export const chatExportUrl = (id: string, format: 'md' | 'json') => `${API}/chats/${enc(id)}/export?format=${format}`
export const stopChatMessage = (id: string, messageId: string) =>
  request<ChatMessageView>('POST', `/chats/${enc(id)}/messages/${enc(messageId)}/stop`)

/** `POST /chats/{id}/messages`: the open response, whose body is the answer's event stream; a refusal throws. */
export async function sendChatMessage(id: string, body: ChatSendBody, signal?: AbortSignal): Promise<Response> {
  const csrf = csrfSource()
  const res = await fetch(`${API}/chats/${enc(id)}/messages`, {
    method: 'POST',
    headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...(csrf !== null && { 'x-cortex-csrf': csrf }) },
    credentials: 'same-origin',
    body: JSON.stringify(body),
    ...(signal && { signal }),
  }).catch((err: unknown) => {
    throw new ApiError(0, null, `Cortex did not answer (${err instanceof Error ? err.message : String(err)}): is it running?`)
  })
  if (res.ok) return res
  const error = (parse(await res.text()) as Envelope | null)?.error
  throw new ApiError(res.status, error?.code ?? null, error?.message ?? `sending answered ${res.status}`)
}
