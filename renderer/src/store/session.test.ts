import { describe, expect, it, vi } from 'vitest'
import { adminSession, errorBody, stubFetch } from '../test/fakes.js'
import { useStore } from './index.js'
import { endSession, restoreSession, submitSignIn } from './session.js'
import { deleteModel, listModels } from '../api.js'

const fakeLocation = (href: string) => ({ href }) as Location
const fakeHistory = () => {
  const urls: string[] = []
  return {
    urls,
    history: { state: null, replaceState: (_s: unknown, _t: string, url: string) => urls.push(url) } as unknown as History,
  }
}

describe('session slice', () => {
  it('exchanges a one-time code from the address bar, then takes the code out of it', async () => {
    const { calls } = stubFetch({ 'POST /admin/api/auth/session': { body: adminSession() } })
    const { urls, history } = fakeHistory()
    await restoreSession(fakeLocation('http://127.0.0.1:31313/models?code=abc123&tab=x#top'), history)
    expect(calls[0]?.body).toEqual({ code: 'abc123' })
    expect(urls).toEqual(['/models?tab=x#top'])
    const session = useStore.getState().session
    expect(session.status).toBe('signed-in')
    expect(session.status === 'signed-in' && session.csrf).toBe('csrf-token-1')
  })

  it('a used or expired code shows the sign-in page with the gateway’s message', async () => {
    stubFetch({
      'POST /admin/api/auth/session': {
        status: 401,
        body: errorBody('this sign-in link was used or expired: run cortex serve again', 'sign_in_failed'),
      },
    })
    const { history } = fakeHistory()
    await restoreSession(fakeLocation('http://127.0.0.1:31313/?code=old'), history)
    expect(useStore.getState().session).toEqual({
      status: 'signed-out',
      error: 'this sign-in link was used or expired: run cortex serve again',
      retryAt: null,
    })
  })

  it('without a code, a 401 from the session check is a quiet sign-in page', async () => {
    stubFetch({ 'GET /admin/api/auth/session': { status: 401, body: errorBody('no session', 'invalid_api_key') } })
    await restoreSession(fakeLocation('http://127.0.0.1:31313/'), fakeHistory().history)
    expect(useStore.getState().session).toEqual({ status: 'signed-out', error: null, retryAt: null })
  })

  it('a throttled sign-in keeps when it may be tried again', async () => {
    stubFetch({
      'POST /admin/api/auth/session': {
        status: 429,
        body: errorBody('too many failed sign-ins from 127.0.0.1: wait a minute', 'too_many_sign_ins'),
        headers: { 'retry-after': '42' },
      },
    })
    const before = Date.now()
    await submitSignIn({ name: 'mia', password: 'wrong' })
    const s = useStore.getState().session
    expect(s.status === 'signed-out' && s.retryAt).toBeGreaterThanOrEqual(before + 42_000)
  })

  it('writes carry the CSRF token and the cookie; a 401 on any request ends the session and clears the store', async () => {
    const { calls } = stubFetch({
      'POST /admin/api/auth/session': { body: adminSession() },
      'DELETE /admin/api/models/m1': { status: 401, body: errorBody('session expired', 'invalid_api_key') },
    })
    await submitSignIn({ token: 't' })
    await expect(deleteModel('m1')).rejects.toThrow('session expired')
    expect(calls[1]?.headers.get('x-cortex-csrf')).toBe('csrf-token-1')
    expect(useStore.getState().session).toEqual({
      status: 'signed-out',
      error: 'Your session ended: sign in again.',
      retryAt: null,
    })
    endSession(null)
    expect(useStore.getState().session.status).toBe('signed-out')
  })

  it('a 401 to a request sent before the sign-in (a screen loading meanwhile) does not end the new session', async () => {
    let answer: (r: Response) => void = () => {}
    const pending = new Promise<Response>((resolve) => (answer = resolve))
    stubFetch({ 'POST /admin/api/auth/session': { body: adminSession() } })
    const fetchMock = globalThis.fetch
    vi.stubGlobal('fetch', (input: RequestInfo | URL, init?: RequestInit) =>
      String(input) === '/admin/api/models' ? pending : fetchMock(input, init),
    )
    const early = listModels()
    await submitSignIn({ code: 'c' })
    answer(new Response(JSON.stringify(errorBody('no session', 'invalid_api_key')), { status: 401 }))
    await expect(early).rejects.toThrow('no session')
    expect(useStore.getState().session.status).toBe('signed-in')
  })
})
