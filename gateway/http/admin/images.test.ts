import { describe, expect, it } from 'vitest'
import { CortexError } from '../../contract/errors.js'
import { eventually } from '../fakes.test-support.js'
import { adminApp, auth } from './fakes.test-support.js'

function send(fixture: ReturnType<typeof adminApp>, method: 'GET' | 'POST', url: string, payload?: object) {
  return fixture.app.inject({ method, url: `/admin/api${url}`, headers: auth, ...(payload === undefined ? {} : { payload }) })
}

describe('admin images', () => {
  it("lists the daemon's images", async () => {
    const res = await send(adminApp(), 'GET', '/images')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({
      data: [{ id: 'sha256:abc', tags: ['ghcr.io/ggml-org/llama.cpp:server'], sizeBytes: 123, createdAt: 1 }],
    })
  })

  it('answers 503 docker_unavailable with Retry-After and how to start Docker when the daemon is down', async () => {
    const fixture = adminApp()
    fixture.images.available = false
    const res = await send(fixture, 'GET', '/images')
    expect(res.statusCode).toBe(503)
    expect(res.headers['retry-after']).toBe('10')
    expect(res.json().error).toMatchObject({
      code: 'docker_unavailable',
      type: 'server_error',
      message: expect.stringContaining('start it'),
    })
  })

  it('loads a tar and answers the names it loaded', async () => {
    const fixture = adminApp()
    const res = await send(fixture, 'POST', '/images/load', { path: '/srv/llama.tar' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ images: ['cortex-test/llama:1'] })
    expect(fixture.images.loaded).toEqual(['/srv/llama.tar'])
  })

  it.each([
    [{ path: '/srv/notes.txt' }, 'path', 'not a docker save tar'],
    [{}, 'path', 'missing required field "path"'],
    [{ path: '' }, 'path', 'path: expected a non-empty string (got "")'],
    [{ path: '/a.tar', tag: 'x' }, 'tag', 'unknown field "tag"'],
  ])('refuses load %j with 400 at %s', async (body, param, message) => {
    const res = await send(adminApp(), 'POST', '/images/load', body)
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toMatchObject({ code: 'invalid_request', param, message: expect.stringContaining(message) })
  })

  it('answers a pull with 202 at once while the pull goes on, and logs how it ended', async () => {
    const fixture = adminApp()
    const res = await send(fixture, 'POST', '/images/pull', { image: 'vllm/vllm-openai:latest' })
    expect(res.statusCode).toBe(202)
    expect(res.json()).toEqual({ image: 'vllm/vllm-openai:latest' })
    expect(fixture.images.pulls.map((p) => p.image)).toEqual(['vllm/vllm-openai:latest'])
    fixture.images.pulls[0]!.finish()
    await eventually(() =>
      expect(fixture.lines.find((l) => l.msg === 'image pulled')).toMatchObject({ image: 'vllm/vllm-openai:latest' }),
    )

    await send(fixture, 'POST', '/images/pull', { image: 'nope:1' })
    fixture.images.pulls[1]!.fail(new CortexError('not_found', 'no image nope:1 in the registry'))
    await eventually(() =>
      expect(fixture.lines.find((l) => l.msg === 'image pull failed')).toMatchObject({
        level: 40,
        image: 'nope:1',
        err: { message: 'no image nope:1 in the registry' },
      }),
    )
  })

  it('refuses a pull with 503 docker_unavailable, and starts nothing, when the daemon is down', async () => {
    const fixture = adminApp()
    fixture.images.available = false
    const res = await send(fixture, 'POST', '/images/pull', { image: 'vllm/vllm-openai:latest' })
    expect(res.statusCode).toBe(503)
    expect(res.headers['retry-after']).toBe('5')
    expect(res.json().error.code).toBe('docker_unavailable')
    expect(fixture.images.pulls).toEqual([])
  })

  it('refuses a pull without an image with 400 at image', async () => {
    const res = await send(adminApp(), 'POST', '/images/pull', { image: 7 })
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toMatchObject({ code: 'invalid_request', param: 'image' })
  })
})
