/** Fakes for component tests: no network, ever. */
import { vi } from 'vitest'
import type { SessionView } from '../../../gateway/contract/index.js'
import type { EventSourceLike } from '../store/stream.js'
import { useStore } from '../store/index.js'

interface Answer {
  status?: number
  body?: unknown
  headers?: Record<string, string>
}
type Handler = (req: { method: string; url: string; body: unknown; headers: Headers }) => Answer

/** `fetch` answering from a table keyed "METHOD /path" (the query is ignored unless the key has one); unknown → 404. */
export function stubFetch(routes: Record<string, Handler | Answer>) {
  const calls: Array<{ method: string; url: string; body: unknown; headers: Headers }> = []
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input)
    const method = init?.method ?? 'GET'
    const headers = new Headers(init?.headers)
    const body = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined
    const req = { method, url, body, headers }
    calls.push(req)
    const route = routes[`${method} ${url}`] ?? routes[`${method} ${url.split('?')[0]}`]
    const answer: Answer =
      route === undefined
        ? { status: 404, body: { error: { message: `no route ${method} ${url}`, code: 'not_found' } } }
        : typeof route === 'function'
          ? route(req)
          : route
    const status = answer.status ?? 200
    return new Response(status === 204 ? null : JSON.stringify(answer.body ?? null), { status, headers: answer.headers ?? {} })
  })
  vi.stubGlobal('fetch', fn)
  return { fn, calls }
}

export const errorBody = (message: string, code = 'invalid_request') => ({
  error: { message, type: 'invalid_request_error', param: null, code },
})

export function adminSession(overrides: Partial<SessionView['user']> = {}): SessionView {
  return {
    user: { id: 'u1', name: 'admin', role: 'admin', orgId: null, builtin: true, ...overrides },
    csrf: 'csrf-token-1',
    expiresAt: Date.now() + 7 * 86_400_000,
  }
}

/** Puts a signed-in session in the store, as a sign-in would. */
export function signInAs(role: 'admin' | 'member' = 'admin'): void {
  const view = adminSession(role === 'member' ? { name: 'mia', role: 'member', builtin: false, orgId: 'o1' } : {})
  useStore.setState({ session: { status: 'signed-in', user: view.user, csrf: view.csrf, expiresAt: view.expiresAt } })
}

/** An EventSource the test drives: open(), emit(type, data), fail(). */
export class FakeEventSource implements EventSourceLike {
  static all: FakeEventSource[] = []
  onopen: ((ev: Event) => void) | null = null
  onerror: ((ev: Event) => void) | null = null
  closed = false
  private listeners = new Map<string, Array<(ev: MessageEvent<string>) => void>>()
  constructor(readonly url: string) {
    FakeEventSource.all.push(this)
  }
  addEventListener(type: string, listener: (ev: MessageEvent<string>) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener])
  }
  close(): void {
    this.closed = true
  }
  open(): void {
    this.onopen?.(new Event('open'))
  }
  emit(type: string, data: unknown): void {
    const text = typeof data === 'string' ? data : JSON.stringify(data)
    for (const fn of this.listeners.get(type) ?? []) fn(new MessageEvent(type, { data: text }))
  }
  fail(): void {
    this.onerror?.(new Event('error'))
  }
  static factory = (url: string) => new FakeEventSource(url)
  static latest(): FakeEventSource {
    const last = FakeEventSource.all.at(-1)
    if (!last) throw new Error('no EventSource was opened')
    return last
  }
}
