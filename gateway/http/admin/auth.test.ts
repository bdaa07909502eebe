import { describe, expect, it } from 'vitest'
import { buildApp } from '../app.js'
import { FakeRegistry, MemoryUsage, eventually, memoryLogger, testConfig } from '../fakes.test-support.js'
import { TOKEN, adminApp, auth } from './fakes.test-support.js'

describe('admin API auth', () => {
  it.each([
    ['no Authorization header', {}],
    ['a wrong token', { authorization: 'Bearer ctx_admin_wrong' }],
    ['the token with a suffix', { authorization: `Bearer ${TOKEN}x` }],
    ['another scheme', { authorization: `Basic ${TOKEN}` }],
    ['a bare token', { authorization: TOKEN }],
  ])('answers %s with 401 invalid_api_key saying where the token is', async (_name, headers) => {
    const { app, models } = adminApp()
    const res = await app.inject({ method: 'POST', url: '/admin/api/models/id-api/stop', headers })
    expect(res.statusCode).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="cortex admin"')
    expect(res.json().error).toMatchObject({ code: 'invalid_api_key', type: 'invalid_request_error', param: null })
    expect(res.json().error.message).toMatch(/CORTEX_ADMIN_TOKEN or <data-dir>\/admin-token/)
    expect(models.calls).toEqual([])
  })

  it('lets the admin token through, whatever the case of "Bearer"', async () => {
    const { app } = adminApp()
    expect((await app.inject({ url: '/admin/api/models', headers: auth })).statusCode).toBe(200)
    expect((await app.inject({ url: '/admin/api/models', headers: { authorization: `bearer ${TOKEN}` } })).statusCode).toBe(200)
  })

  it('asks for the token before saying a route does not exist, then answers 404 not_found', async () => {
    const { app } = adminApp()
    expect((await app.inject('/admin/api/nope')).statusCode).toBe(401)
    const res = await app.inject({ method: 'PUT', url: '/admin/api/models?x=1', headers: auth })
    expect(res.statusCode).toBe(404)
    expect(res.json().error).toMatchObject({ code: 'not_found', message: 'no admin API route for PUT /admin/api/models' })
  })

  it('never writes the token, right or wrong, to the log', async () => {
    const { app, lines, models } = adminApp()
    models.startImpl = () => Promise.reject(new TypeError('boom'))
    await app.inject({ url: '/admin/api/models', headers: auth })
    await app.inject({ url: '/admin/api/models', headers: { authorization: 'Bearer ctx_admin_guess' } })
    expect((await app.inject({ method: 'POST', url: '/admin/api/models/id-api/start', headers: auth })).statusCode).toBe(500)
    await eventually(() => expect(lines.filter((l) => l.msg === 'request')).toHaveLength(3))
    expect(lines.find((l) => l.msg === 'request failed')).toBeDefined()
    expect(JSON.stringify(lines)).not.toMatch(new RegExp(`${TOKEN}|ctx_admin_guess|authorization`, 'i'))
  })

  it('is not served when buildApp gets no admin option', async () => {
    const app = buildApp({
      config: testConfig(),
      registry: new FakeRegistry([]),
      usage: new MemoryUsage(),
      logger: memoryLogger().logger,
      isReady: () => true,
    })
    const res = await app.inject({ url: '/admin/api/models', headers: auth })
    expect(res.statusCode).toBe(404)
    expect(res.json().error.code).toBe('not_found')
  })
})
