import type { LightMyRequestResponse } from 'fastify'
import { expect } from 'vitest'
import { createSessions } from '../../auth/sessions.js'
import type { CortexConfig } from '../../config/types.js'
import { modelView } from '../../contract/admin.test-support.js'
import { createSessionRepo } from '../../store/sessions.js'
import { buildApp } from '../app.js'
import { FakeRegistry, MemoryUsage, memoryLogger, noKeys, testConfig } from '../fakes.test-support.js'
import { FakeModelService, TOKEN, fakeAdmin } from './fakes.test-support.js'

/** The console's sessions through the real app, on real SQLite: what the session suites share. */

export const COOKIE = 'cortex_session_test'
export const HOST = '127.0.0.1:31313'
export const ORIGIN = `http://${HOST}`
export const PASSWORD = 'correct horse battery'

export interface Signed {
  cookie: string
  csrf: string
}

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH'

/**
 * buildApp with the admin API and console sessions over the fakes, one model `m` (id `id-m`, with env), and in
 * organization acme a member `ann` and an admin user `bob` (password PASSWORD). `clock.now` is the sessions' clock.
 */
export function consoleApp(config: CortexConfig = testConfig(), cookie = { name: COOKIE, trustProxy: false }) {
  const clock = { now: 1_800_000_000_000 }
  const { logger } = memoryLogger()
  const admin = fakeAdmin(logger, new FakeModelService([modelView({ id: 'id-m', name: 'm', env: { SECRET: 'x' } })]))
  const sessions = createSessions({
    repo: createSessionRepo(admin.accounts.db),
    users: admin.accounts.users,
    adminToken: TOKEN,
    now: () => clock.now,
  })
  const acme = admin.accounts.orgs.create('acme')
  admin.accounts.users.create({ orgId: acme.id, name: 'ann', role: 'member', password: PASSWORD })
  admin.accounts.users.create({ orgId: acme.id, name: 'bob', role: 'admin', password: PASSWORD })
  const app = buildApp({
    config,
    registry: new FakeRegistry([]),
    usage: new MemoryUsage(),
    logger,
    ...noKeys(),
    admin: { ...admin, sessions: { service: sessions, cookie, publicUrl: () => ORIGIN } },
  })

  /** Signs in with `body`, checks the cookie's attributes, and returns the cookie and the session's CSRF token. */
  async function signIn(body: object): Promise<Signed> {
    const res = await app.inject({ method: 'POST', url: '/admin/api/auth/session', payload: body, headers: { host: HOST } })
    expect(res.statusCode, res.body).toBe(200)
    const set = String(res.headers['set-cookie'])
    expect(set).toMatch(new RegExp(`^${COOKIE}=[\\w-]{40,}; Path=/; HttpOnly; SameSite=Strict; Max-Age=604800$`))
    return { cookie: set.split(';', 1)[0]!, csrf: res.json<{ csrf: string }>().csrf }
  }

  /** A request as the console's own page makes it: the cookie, the own Origin and the CSRF token (`extra` overrides). */
  const as = (s: Signed, method: Method, url: string, extra: Record<string, string> = {}, payload?: object) =>
    app.inject({
      method,
      url,
      payload,
      headers: { host: HOST, cookie: s.cookie, origin: ORIGIN, 'x-cortex-csrf': s.csrf, ...extra },
    })

  return { app, admin, clock, signIn, as }
}

export const code = (res: LightMyRequestResponse) => res.json<{ error: { code: string } }>().error.code
