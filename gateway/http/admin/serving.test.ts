import { describe, expect, it } from 'vitest'
import { adminApp, auth } from './fakes.test-support.js'

const chat = { model: 'any', messages: [{ role: 'user', content: 'hi' }] }

describe('pause and resume of /v1', () => {
  it('paused, inference is 503 gateway_paused with Retry-After while the model list answers; resumed, it routes again', async () => {
    const { app } = adminApp()
    const post = (url: string) => app.inject({ method: 'POST', url: `/admin/api${url}`, headers: auth })
    const infer = () => app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chat })

    expect((await app.inject({ method: 'GET', url: '/admin/api/serving', headers: auth })).json()).toEqual({ paused: false })
    expect((await post('/pause')).json()).toEqual({ paused: true })
    const paused = await infer()
    expect(paused.statusCode).toBe(503)
    expect(paused.headers['retry-after']).toBe('10')
    expect(paused.json().error).toMatchObject({
      code: 'gateway_paused',
      message: expect.stringMatching(/POST \/admin\/api\/resume/),
    })
    // Anthropic clients get their own envelope.
    const messages = await app.inject({ method: 'POST', url: '/v1/messages', payload: { ...chat, max_tokens: 1 } })
    expect(messages.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } })
    expect((await app.inject({ method: 'GET', url: '/v1/models' })).statusCode).toBe(200)

    expect((await post('/resume')).json()).toEqual({ paused: false })
    // No model "any" exists: routing is back, and answers as it always does.
    expect((await infer()).json().error.code).toBe('model_not_found')
  })

  it('is the admin token’s to change: no token is 401 and pauses nothing', async () => {
    const { app } = adminApp()
    expect((await app.inject({ method: 'POST', url: '/admin/api/pause' })).statusCode).toBe(401)
    expect((await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chat })).json().error.code).toBe(
      'model_not_found',
    )
  })
})
