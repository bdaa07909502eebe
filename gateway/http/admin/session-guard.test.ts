import type { AddressInfo } from 'node:net'
import { Pool } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import type { AdminEvent } from '../../contract/index.js'
import { eventually, testConfig } from '../fakes.test-support.js'
import { TOKEN, auth, systemSample, type FakeModelService, type FakeSystemMonitor } from './fakes.test-support.js'
import { COOKIE, HOST, ORIGIN, PASSWORD, code, consoleApp, type Method } from './session.test-support.js'

/** Issue 11, "Signing in": the session guard's edges — ended sessions, the cookie's attributes, /v1, members' limits. */

let t: ReturnType<typeof consoleApp> | undefined
afterEach(async () => {
  await t?.app.close()
  t = undefined
})
const start = (...args: Parameters<typeof consoleApp>) => (t = consoleApp(...args))

const signInRaw = (app: ReturnType<typeof consoleApp>['app'], headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/admin/api/auth/session', payload: { token: TOKEN }, headers: { host: HOST, ...headers } })

describe('an ended session', () => {
  it.each([
    [
      'revoked by an admin',
      async (c: ReturnType<typeof consoleApp>, id: string) => {
        await c.app.inject({ method: 'DELETE', url: `/admin/api/auth/sessions/${id}`, headers: auth })
      },
    ],
    [
      'unused for 7 days',
      (c: ReturnType<typeof consoleApp>) => {
        c.clock.now += 7 * 86_400_000
      },
    ],
  ])(
    '%s: a state-changing request with the right Origin and CSRF token is 401, and the cookie is cleared',
    async (_name, end) => {
      const c = start()
      const ann = await c.signIn({ name: 'ann', password: PASSWORD })
      const { id } = (await c.app.inject({ method: 'GET', url: '/admin/api/auth/sessions', headers: auth })).json<
        Array<{ id: string }>
      >()[0]!
      await end(c, id)
      const res = await c.as(ann, 'POST', '/admin/api/keys', {}, { name: 'late' })
      expect(res.statusCode).toBe(401)
      expect(code(res)).toBe('sign_in_failed')
      expect(String(res.headers['set-cookie'])).toMatch(new RegExp(`^${COOKIE}=; .*Max-Age=0`))
      expect(c.admin.accounts.keys.list()).toEqual([])
    },
  )

  it('a made-up cookie is 401 too, and an Authorization header beside a good cookie is judged alone', async () => {
    const c = start()
    const forged = await c.as({ cookie: `${COOKIE}=${'A'.repeat(43)}`, csrf: 'x' }, 'GET', '/admin/api/models')
    expect(forged.statusCode).toBe(401)
    expect(code(forged)).toBe('sign_in_failed')
    const s = await c.signIn({ token: TOKEN })
    const wrongBearer = await c.as(s, 'GET', '/admin/api/models', { authorization: 'Bearer not-the-token' })
    expect(wrongBearer.statusCode).toBe(401)
    expect(code(wrongBearer)).toBe('invalid_api_key')
  })
})

describe('the cookie', () => {
  it('is Secure over TLS at a trusted proxy, and not when X-Forwarded-Proto comes from anyone', async () => {
    const trusting = start(testConfig(), { name: COOKIE, trustProxy: true })
    const viaProxy = await signInRaw(trusting.app, { 'x-forwarded-proto': 'https' })
    expect(String(viaProxy.headers['set-cookie'])).toMatch(/; HttpOnly; SameSite=Strict; Max-Age=604800; Secure$/)
    const plain = await signInRaw(trusting.app, { 'x-forwarded-proto': 'http' })
    expect(String(plain.headers['set-cookie'])).not.toContain('Secure')
    await trusting.app.close()

    const direct = start()
    const spoofed = await signInRaw(direct.app, { 'x-forwarded-proto': 'https' })
    expect(spoofed.statusCode).toBe(200)
    expect(String(spoofed.headers['set-cookie'])).not.toContain('Secure')
  })

  it('is sent again with a fresh 7 days once a minute has passed since its last use, not on every request', async () => {
    const c = start()
    const s = await c.signIn({ token: TOKEN })
    expect((await c.as(s, 'GET', '/admin/api/models')).headers['set-cookie']).toBeUndefined()
    c.clock.now += 61_000
    const renewed = await c.as(s, 'GET', '/admin/api/models')
    expect(String(renewed.headers['set-cookie'])).toBe(`${s.cookie}; Path=/; HttpOnly; SameSite=Strict; Max-Age=604800`)
    const view = (await c.as(s, 'GET', '/admin/api/auth/session')).json<{ expiresAt: number }>()
    expect(view.expiresAt).toBe(c.clock.now + 7 * 86_400_000)
  })
})

describe('/v1 and the session cookie', () => {
  it.each([
    ['the cookie alone', {}],
    ['the cookie with the console’s Origin', { origin: ORIGIN }],
  ])('%s (and its CSRF token) is 401 where keys are required', async (_name, extra) => {
    const c = start({ ...testConfig(), auth: { required: true, allowLoopbackWithoutKey: false } })
    const s = await c.signIn({ token: TOKEN })
    const res = await c.app.inject({
      method: 'GET',
      url: '/v1/models',
      headers: { host: HOST, cookie: s.cookie, 'x-cortex-csrf': s.csrf, ...extra },
    })
    expect(res.statusCode).toBe(401)
    expect(code(res)).toBe('invalid_api_key')
  })
})

describe('a member, on the rest of the admin-only routes', () => {
  it.each([
    ['POST', '/admin/api/models/id-m/pin', {}],
    ['POST', '/admin/api/models/id-m/unpin', {}],
    ['POST', '/admin/api/models/id-m/dry-run', {}],
    ['GET', '/admin/api/models/id-m/recipe', undefined],
    ['POST', '/admin/api/dry-run', { name: 'x', engine: 'llamacpp', runtime: 'process', source: '/m.gguf' }],
    ['POST', '/admin/api/gguf/inspect', { path: '/etc/passwd' }],
    ['GET', '/admin/api/recipes', undefined],
    ['GET', '/admin/api/images', undefined],
    ['POST', '/admin/api/images/pull', { image: 'x' }],
    ['POST', '/admin/api/images/load', { path: '/tmp/x.tar' }],
    ['PUT', '/admin/api/settings', { hfToken: 'hf_x' }],
    ['GET', '/admin/api/gpus', undefined],
    ['GET', '/admin/api/system', undefined],
    ['GET', '/admin/api/orgs', undefined],
    ['POST', '/admin/api/users', { org: 'acme', name: 'eve', role: 'admin', password: 'p'.repeat(12) }],
    ['DELETE', '/admin/api/auth/sessions/ses_0', undefined],
  ] as Array<[Method, string, object | undefined]>)(
    '%s %s: 403 role_not_allowed, and nothing runs',
    async (method, url, body) => {
      const c = start()
      const ann = await c.signIn({ name: 'ann', password: PASSWORD })
      const res = await c.as(ann, method, url, {}, body)
      expect(res.statusCode, res.body).toBe(403)
      expect(code(res)).toBe('role_not_allowed')
      expect((c.admin.models as FakeModelService).calls).toEqual([])
      expect(c.admin.accounts.users.get('eve')).toBeUndefined()
    },
  )

  it('an admin user’s session may do what the token may', async () => {
    const c = start()
    const bob = await c.signIn({ name: 'bob', password: PASSWORD })
    expect((await c.as(bob, 'POST', '/admin/api/models/id-m/pin')).statusCode).toBe(200)
    expect((await c.as(bob, 'GET', '/admin/api/models/id-m')).json()).toMatchObject({ env: { SECRET: 'x' } })
  })
})

describe('GET /admin/api/events with a session', () => {
  let client: Pool | undefined
  afterEach(async () => {
    // The streams never end on their own: destroy, not close (which would wait for them).
    await client?.destroy()
    client = undefined
  })

  /** Opens the stream on a real listening server and collects its events as they arrive. */
  async function stream(c: ReturnType<typeof consoleApp>, cookie: string) {
    await c.app.listen({ port: 0, host: '127.0.0.1' })
    const port = (c.app.server.address() as AddressInfo).port
    client = new Pool(`http://127.0.0.1:${port}`)
    const res = await client.request({ method: 'GET', path: '/admin/api/events', headers: { cookie } })
    const seen: Array<{ event: string; data: Record<string, unknown> }> = []
    let text = ''
    res.body.on('data', (chunk: Buffer) => {
      text += chunk.toString()
      let end: number
      while ((end = text.indexOf('\n\n')) !== -1) {
        const frame = text.slice(0, end)
        text = text.slice(end + 2)
        const event = /^event: (.*)$/m.exec(frame)?.[1]
        const data = /^data: (.*)$/m.exec(frame)?.[1]
        if (event !== undefined && data !== undefined) seen.push({ event, data: JSON.parse(data) })
      }
    })
    return { res, seen }
  }

  const failed: AdminEvent = {
    type: 'model_state',
    id: 'id-m',
    name: 'm',
    reason: 'failed',
    state: 'failed',
    diagnosis: { cause: 'exited', message: 'it exited', exitCode: 1, logTail: ['SECRET=x in a log line'] },
  }

  it("a member's carries names and states only: no definition, diagnosis, pull progress or GPU sample", async () => {
    const c = start()
    const ann = await c.signIn({ name: 'ann', password: PASSWORD })
    const { res, seen } = await stream(c, ann.cookie)
    expect(res.statusCode).toBe(200)
    await eventually(() => expect(seen.map((e) => e.event)).toEqual(['snapshot']))
    const models = c.admin.models as FakeModelService
    models.emit(failed)
    models.emit({ type: 'image_pull', image: 'x', layer: 'l1', status: 'Downloading', current: 1, total: 2 })
    ;(c.admin.system as FakeSystemMonitor).emit(systemSample(5_000, 90))
    models.emit({ type: 'model_updated', model: models.get('id-m') })
    models.emit({ type: 'model_removed', id: 'id-m', name: 'm' })
    await eventually(() =>
      expect(seen.map((e) => e.event)).toEqual(['snapshot', 'model_state', 'model_updated', 'model_removed']),
    )
    expect(seen[1]!.data).toEqual({ type: 'model_state', id: 'id-m', name: 'm', state: 'failed' })
    expect(Object.keys(seen[2]!.data['model'] as object).sort()).toEqual(['aliases', 'engine', 'id', 'name', 'runtime', 'status'])
    expect(JSON.stringify(seen)).not.toContain('SECRET')
  })

  it("an admin's carries everything", async () => {
    const c = start()
    const s = await c.signIn({ token: TOKEN })
    const { seen } = await stream(c, s.cookie)
    await eventually(() => expect(seen.map((e) => e.event)).toEqual(['snapshot']))
    ;(c.admin.models as FakeModelService).emit(failed)
    ;(c.admin.system as FakeSystemMonitor).emit(systemSample(5_000, 90))
    await eventually(() => expect(seen.map((e) => e.event)).toEqual(['snapshot', 'model_state', 'gpu_sample']))
    expect(seen[1]!.data).toEqual(failed)
    expect(JSON.stringify(seen[0]!.data)).toContain('SECRET')
  })
})
