import { describe, expect, it, vi } from 'vitest'
import { adminApp, auth } from './fakes.test-support.js'

const HF_TOKEN = 'hf_unitTestSecretValue0123456789'

function send(fixture: ReturnType<typeof adminApp>, method: 'GET' | 'PUT', payload?: object | string) {
  return fixture.app.inject({
    method,
    url: '/admin/api/settings',
    headers: { ...auth, ...(typeof payload === 'string' ? { 'content-type': 'application/json' } : {}) },
    ...(payload === undefined ? {} : { payload }),
  })
}

describe('admin settings', () => {
  it('starts with no token and the default HF cache', async () => {
    const res = await send(adminApp(), 'GET')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ hfToken: { set: false }, hfCache: null })
  })

  it('keeps a token it never shows: PUT and GET answer only that one is set, and the log names the field only', async () => {
    const fixture = adminApp()
    const put = await send(fixture, 'PUT', { hfToken: HF_TOKEN })
    expect(put.statusCode).toBe(200)
    expect(put.json()).toEqual({ hfToken: { set: true }, hfCache: null })
    const get = await send(fixture, 'GET')
    expect(get.json()).toEqual({ hfToken: { set: true }, hfCache: null })
    expect(fixture.settings.secretEnv()).toEqual({ HF_TOKEN })

    expect(put.body + get.body).not.toContain(HF_TOKEN)
    expect(fixture.lines.find((l) => l.msg === 'settings updated')).toMatchObject({ changed: ['hfToken'] })
    expect(JSON.stringify(fixture.lines)).not.toContain(HF_TOKEN)
  })

  it('clears the token with null, and leaves out what a PUT does not name', async () => {
    const fixture = adminApp()
    await send(fixture, 'PUT', { hfToken: HF_TOKEN, hfCache: '/srv/hf' })
    expect((await send(fixture, 'PUT', { hfCache: '/data/hf' })).json()).toEqual({ hfToken: { set: true }, hfCache: '/data/hf' })
    expect((await send(fixture, 'PUT', { hfToken: null })).json()).toEqual({ hfToken: { set: false }, hfCache: '/data/hf' })
    expect(fixture.settings.secretEnv()).toEqual({})
    expect((await send(fixture, 'PUT', { hfCache: null })).json()).toEqual({ hfToken: { set: false }, hfCache: null })
    expect(fixture.settings.hfCache()).toBeNull()
  })

  it('refuses a token with a space or a line break at hfToken without repeating it, and changes nothing', async () => {
    const fixture = adminApp()
    for (const bad of [`${HF_TOKEN} x`, `${HF_TOKEN}\n`, '']) {
      const res = await send(fixture, 'PUT', { hfToken: bad, hfCache: '/srv/hf' })
      expect(res.statusCode).toBe(400)
      expect(res.json().error).toMatchObject({ code: 'invalid_request', param: 'hfToken' })
      expect(res.body).not.toContain(HF_TOKEN)
    }
    expect((await send(fixture, 'GET')).json()).toEqual({ hfToken: { set: false }, hfCache: null })
    expect(JSON.stringify(fixture.lines)).not.toContain(HF_TOKEN)
  })

  it('does not log the token of a body that is not valid JSON', async () => {
    const fixture = adminApp()
    const res = await send(fixture, 'PUT', `{"hfToken": ${HF_TOKEN}}`)
    expect(res.statusCode).toBe(400)
    expect(res.json().error.code).toBe('invalid_json')
    expect(JSON.stringify(fixture.lines)).not.toContain(HF_TOKEN)
  })

  it.each([
    [{ hfCache: 'relative/hf' }, 'hfCache', 'expected an absolute path (got "relative/hf")'],
    [{ hfCache: '' }, 'hfCache', 'hfCache: expected a non-empty string or null'],
    [{ hfToken: 7 }, 'hfToken', 'hfToken: expected a string or null (got 7)'],
    [{ hfTokn: 'x' }, 'hfTokn', 'unknown field "hfTokn" (allowed: hfToken, hfCache)'],
  ])('refuses %j with 400 at %s', async (body, param, message) => {
    const res = await send(adminApp(), 'PUT', body)
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toMatchObject({ code: 'invalid_request', param, message: expect.stringContaining(message) })
  })

  it('answers only the view fields, even from a service that would leak the value', async () => {
    const fixture = adminApp()
    const leaky = { hfToken: { set: true, value: HF_TOKEN }, hfCache: null }
    vi.spyOn(fixture.settings, 'get').mockReturnValue(leaky)
    vi.spyOn(fixture.settings, 'update').mockReturnValue(leaky)
    for (const res of [await send(fixture, 'GET'), await send(fixture, 'PUT', {})]) {
      expect(res.json()).toEqual({ hfToken: { set: true }, hfCache: null })
    }
  })

  it('needs the admin token', async () => {
    const res = await adminApp().app.inject({ method: 'GET', url: '/admin/api/settings' })
    expect(res.statusCode).toBe(401)
  })
})
