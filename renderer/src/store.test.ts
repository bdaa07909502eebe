import { beforeEach, describe, expect, it } from 'vitest'
import { refreshModels, useStore } from './store.js'

const reply = (status: number, body: unknown) => (async () => new Response(JSON.stringify(body), { status })) as typeof fetch

describe('refreshModels', () => {
  beforeEach(() => useStore.setState({ models: {}, error: null }))

  it('replaces the models slice from /v1/models, leaving aliases out', async () => {
    await refreshModels(
      reply(200, {
        data: [
          { id: 'qwen', state: 'running', context_length: 8192 },
          { id: 'q', state: 'running', context_length: 8192, alias_of: 'qwen' },
        ],
      }),
    )
    expect(useStore.getState().models).toEqual({ qwen: { id: 'qwen', state: 'running', contextLength: 8192 } })
  })

  it('keeps the last models and records the error when the gateway refuses', async () => {
    useStore.setState({ models: { a: { id: 'a', state: 'stopped', contextLength: null } } })
    await refreshModels(reply(401, { error: { message: 'no key' } }))
    expect(useStore.getState().error).toBe('GET /v1/models answered 401')
    expect(Object.keys(useStore.getState().models)).toEqual(['a'])
  })
})
