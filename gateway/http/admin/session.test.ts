import { beforeEach, describe, expect, it } from 'vitest'
import { TOKEN, auth } from './fakes.test-support.js'
import { COOKIE, HOST, ORIGIN, PASSWORD, code, consoleApp, type Signed } from './session.test-support.js'

/** Issue 11, "Signing in": the console's sessions through the real app, on real SQLite. */

let t: ReturnType<typeof consoleApp>
beforeEach(() => {
  t = consoleApp()
})
const signIn = (body: object) => t.signIn(body)
const as: ReturnType<typeof consoleApp>['as'] = (...args) => t.as(...args)

describe('signing in', () => {
  it('with a one-time code, which then works no more', async () => {
    const minted = await t.app.inject({ method: 'POST', url: '/admin/api/auth/codes', headers: auth })
    expect(minted.statusCode).toBe(201)
    const { code: c, url } = minted.json<{ code: string; url: string }>()
    expect(url).toBe(`${ORIGIN}/?code=${c}`)
    const s = await signIn({ code: c })
    expect((await as(s, 'GET', '/admin/api/auth/session')).json()).toMatchObject({ user: { name: 'admin', role: 'admin' } })
    const again = await t.app.inject({ method: 'POST', url: '/admin/api/auth/session', payload: { code: c } })
    expect(again.statusCode).toBe(401)
    expect(code(again)).toBe('sign_in_failed')
  })

  it('with the admin token, or a user’s name and password', async () => {
    await signIn({ token: TOKEN })
    const ann = await signIn({ name: 'ann', password: PASSWORD })
    expect((await as(ann, 'GET', '/admin/api/auth/session')).json()).toMatchObject({
      user: { name: 'ann', role: 'member', builtin: false },
    })
  })

  it('an expired code is refused', async () => {
    const { code: c } = (await t.app.inject({ method: 'POST', url: '/admin/api/auth/codes', headers: auth })).json<{
      code: string
    }>()
    t.clock.now += 5 * 60_000 + 1
    const res = await t.app.inject({ method: 'POST', url: '/admin/api/auth/session', payload: { code: c } })
    expect(code(res)).toBe('sign_in_failed')
  })

  it('throttles a client address after 5 failures in a minute, with Retry-After, and lets it in again later', async () => {
    const wrong = () =>
      t.app.inject({ method: 'POST', url: '/admin/api/auth/session', payload: { name: 'ann', password: 'x'.repeat(12) } })
    for (let i = 0; i < 5; i++) expect(code(await wrong())).toBe('sign_in_failed')
    const throttled = await wrong()
    expect(throttled.statusCode).toBe(429)
    expect(code(throttled)).toBe('too_many_sign_ins')
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0)
    // Even the right password waits out the throttle.
    const right = await t.app.inject({
      method: 'POST',
      url: '/admin/api/auth/session',
      payload: { name: 'ann', password: PASSWORD },
    })
    expect(right.statusCode).toBe(429)
    t.clock.now += 61_000
    await signIn({ name: 'ann', password: PASSWORD })
  })

  it('signing out ends the session and clears the cookie', async () => {
    const s = await signIn({ token: TOKEN })
    const out = await as(s, 'DELETE', '/admin/api/auth/session')
    expect(out.statusCode).toBe(204)
    expect(String(out.headers['set-cookie'])).toMatch(new RegExp(`^${COOKIE}=; .*Max-Age=0`))
    const after = await as(s, 'GET', '/admin/api/models')
    expect(after.statusCode).toBe(401)
    expect(code(after)).toBe('sign_in_failed')
  })

  it('an admin lists sessions and revokes one; a session expires after 7 days unused', async () => {
    const ann = await signIn({ name: 'ann', password: PASSWORD })
    const list = await t.app.inject({ method: 'GET', url: '/admin/api/auth/sessions', headers: auth })
    const [item] = list.json<Array<{ id: string; user: { name: string } }>>()
    expect(item).toMatchObject({ user: { name: 'ann' } })
    expect(JSON.stringify(list.json())).not.toContain(ann.cookie.split('=')[1]!)
    expect(
      (await t.app.inject({ method: 'DELETE', url: `/admin/api/auth/sessions/${item!.id}`, headers: auth })).statusCode,
    ).toBe(204)
    expect((await as(ann, 'GET', '/admin/api/models')).statusCode).toBe(401)

    const bob = await signIn({ name: 'bob', password: PASSWORD })
    t.clock.now += 6 * 86_400_000
    expect((await as(bob, 'GET', '/admin/api/models')).statusCode).toBe(200) // used: slides to 7 days from now
    t.clock.now += 6 * 86_400_000
    expect((await as(bob, 'GET', '/admin/api/models')).statusCode).toBe(200)
    t.clock.now += 7 * 86_400_000 + 1
    expect((await as(bob, 'GET', '/admin/api/models')).statusCode).toBe(401)
  })
})

describe('the guard on state-changing requests with a session', () => {
  it.each([
    ['no Origin', (s: Signed) => ({ 'x-cortex-csrf': s.csrf }), 'origin_not_allowed'],
    ['another local port', (s: Signed) => ({ origin: 'http://127.0.0.1:3000', 'x-cortex-csrf': s.csrf }), 'origin_not_allowed'],
    ['no CSRF header', () => ({ origin: ORIGIN }), 'csrf_token_invalid'],
    ['a wrong CSRF token', () => ({ origin: ORIGIN, 'x-cortex-csrf': 'not-the-token' }), 'csrf_token_invalid'],
  ])('%s is refused', async (_name, headers, expected) => {
    const s = await signIn({ token: TOKEN })
    const res = await t.app.inject({
      method: 'POST',
      url: '/admin/api/keys',
      payload: { name: 'k' },
      headers: { host: HOST, cookie: s.cookie, ...headers(s) },
    })
    expect(res.statusCode).toBe(403)
    expect(code(res)).toBe(expected)
  })

  it('with both, it goes through', async () => {
    const s = await signIn({ token: TOKEN })
    expect((await as(s, 'POST', '/admin/api/keys', {}, { name: 'k' })).statusCode).toBe(201)
  })
})

describe('a member', () => {
  it.each([
    ['POST', '/admin/api/models/id-m/start'],
    ['POST', '/admin/api/models/id-m/stop'],
    ['PATCH', '/admin/api/models/id-m'],
    ['DELETE', '/admin/api/models/id-m'],
    ['POST', '/admin/api/models'],
    ['GET', '/admin/api/models/id-m/logs'],
    ['GET', '/admin/api/settings'],
    ['POST', '/admin/api/orgs'],
    ['GET', '/admin/api/users'],
    ['GET', '/admin/api/auth/sessions'],
    ['POST', '/admin/api/auth/codes'],
  ] as const)('%s %s: 403 role_not_allowed', async (method, url) => {
    const ann = await signIn({ name: 'ann', password: PASSWORD })
    const res = await as(ann, method, url, {}, method === 'GET' || method === 'DELETE' ? undefined : {})
    expect(res.statusCode).toBe(403)
    expect(code(res)).toBe('role_not_allowed')
  })

  it('sees model names and states, never a definition', async () => {
    const ann = await signIn({ name: 'ann', password: PASSWORD })
    const res = await as(ann, 'GET', '/admin/api/models')
    expect(res.statusCode).toBe(200)
    const [m] = res.json<{ data: Array<Record<string, unknown>> }>().data
    expect(Object.keys(m!).sort()).toEqual(['aliases', 'engine', 'id', 'name', 'runtime', 'status'])
    expect(res.body).not.toContain('SECRET')
  })

  it('makes, lists and revokes only their own keys', async () => {
    const ann = await signIn({ name: 'ann', password: PASSWORD })
    await t.app.inject({ method: 'POST', url: '/admin/api/keys', headers: auth, payload: { name: 'admins-key' } })
    const made = await as(ann, 'POST', '/admin/api/keys', {}, { name: 'anns-key' })
    expect(made.statusCode).toBe(201)
    expect(made.json()).toMatchObject({ apiKey: { name: 'anns-key', user: 'ann', org: 'acme' } })
    expect(code(await as(ann, 'POST', '/admin/api/keys', {}, { name: 'x', org: 'acme' }))).toBe('role_not_allowed')
    const listed = (await as(ann, 'GET', '/admin/api/keys')).json<Array<{ name: string }>>()
    expect(listed.map((k) => k.name)).toEqual(['anns-key'])
    expect((await as(ann, 'DELETE', '/admin/api/keys/admins-key')).statusCode).toBe(404)
    expect((await as(ann, 'DELETE', '/admin/api/keys/anns-key')).statusCode).toBe(200)
  })
})
