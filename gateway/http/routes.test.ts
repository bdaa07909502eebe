import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { CortexError } from '../contract/errors.js'
import { modelDefinition } from '../contract/model.test-support.js'
import type { RouteDefinition } from '../contract/routes.js'
import { routeTable } from '../router/route.js'
import { buildApp } from './app.js'
import {
  FakeRegistry,
  MemoryKeys,
  MemoryUsage,
  MockUpstream,
  json,
  memoryLogger,
  noKeys,
  testConfig,
} from './fakes.test-support.js'

/** Routes (virtual models) through the whole request path: the mock engine sees which model was asked for. */

const upstream = new MockUpstream()
let usage: MemoryUsage
let registry: FakeRegistry
beforeAll(() => upstream.start())
afterAll(() => upstream.close())

const chat: RouteDefinition = {
  name: 'chat',
  aliases: ['assistant'],
  targets: [{ model: 'big', minPromptTokens: 100 }, { model: 'small' }],
  fallback: 'big',
  origin: 'config',
}

beforeEach(() => {
  upstream.received.length = 0
  // As llama-server does, the engine answers with the model's own name.
  upstream.handler = (req, res) => {
    const { model } = JSON.parse(req.body.toString()) as { model: string }
    json(res, 200, { id: 'x', model, choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } })
  }
  usage = new MemoryUsage()
  registry = new FakeRegistry([
    modelDefinition({ id: 'id-big', name: 'big' }),
    modelDefinition({ id: 'id-small', name: 'small' }),
  ])
  registry.target = { replica: 0, apiRoot: '/v1', dispatcher: upstream.pool }
})

function gateway() {
  const { logger } = memoryLogger()
  const keys = new MemoryKeys()
  return buildApp({ config: testConfig(), registry, usage, logger, ...noKeys(keys), routes: routeTable([chat]) })
}

const ask = (app: ReturnType<typeof gateway>, model: string, content = 'hi') =>
  app.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model, messages: [{ role: 'user', content }] } })

describe('routes on /v1', () => {
  it('a short prompt goes to its target, a long one to the other; the engine is asked for the model, the client sees the route', async () => {
    const app = gateway()
    const short = await ask(app, 'chat')
    const long = await ask(app, 'assistant', 'x'.repeat(600))
    expect([short.statusCode, long.statusCode]).toEqual([200, 200])
    expect(upstream.received.map((r) => (JSON.parse(r.body.toString()) as { model: string }).model)).toEqual(['small', 'big'])
    expect([short.json().model, long.json().model]).toEqual(['chat', 'assistant'])
    expect(usage.rows.map((r) => [r.route, r.model])).toEqual([
      ['chat', 'small'],
      ['chat', 'big'],
    ])
  })

  it('spills over to the next candidate when the first one’s queue is full, and records the one that served', async () => {
    registry.acquireImpl = async (model) => {
      if (model === 'small') throw new CortexError('queue_full', 'model "small" has 0 of 0 queue places free')
    }
    const res = await ask(gateway(), 'chat')
    expect(res.statusCode).toBe(200)
    expect(usage.rows.map((r) => r.model)).toEqual(['big'])
  })

  it('any other refusal of the first candidate is the answer: no spillover on a failed start', async () => {
    registry.acquireImpl = async (model) => {
      if (model === 'small') throw new CortexError('model_start_failed', 'model "small" failed to start')
    }
    const res = await ask(gateway(), 'chat')
    expect([res.statusCode, res.json().error.code]).toEqual([503, 'model_start_failed'])
    expect(upstream.received).toHaveLength(0)
  })

  it('lists routes in /v1/models with what they route to, beside the models', async () => {
    const res = await gateway().inject({ method: 'GET', url: '/v1/models' })
    const ids = (res.json().data as Array<{ id: string }>).map((m) => m.id)
    expect(ids).toEqual(['big', 'small', 'chat', 'assistant'])
    expect(res.json().data[2]).toMatchObject({ id: 'chat', route: { targets: ['big', 'small'] }, context_length: 4096 })
    expect((await gateway().inject({ method: 'GET', url: '/v1/models/assistant' })).json()).toMatchObject({ alias_of: 'chat' })
  })

  it('a prompt larger than every target’s context is 400 context_length_exceeded before any engine is asked', async () => {
    const res = await ask(gateway(), 'chat', 'x'.repeat(20_000))
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toMatchObject({ code: 'context_length_exceeded', param: 'messages' })
    expect(res.json().error.message).toMatch(/largest context is 4096 tokens/)
    expect(upstream.received).toHaveLength(0)
    expect(registry.leases).toHaveLength(0)
  })
})
