import { describe, expect, it } from 'vitest'
import { CortexError } from '../../contract/errors.js'
import { adminApp, auth } from './fakes.test-support.js'

function call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) {
  const fixture = adminApp()
  const res = fixture.app.inject({
    method,
    url: `/admin/api${url}`,
    headers: auth,
    ...(payload === undefined ? {} : { payload }),
  })
  return res.then((r) => ({ res: r, ...fixture }))
}

const created = { name: 'qwen', engine: 'llamacpp', runtime: 'process', source: '/models/qwen.gguf', replicas: 2, ttl: '30m' }

describe('admin models: reads', () => {
  it('lists the models as views', async () => {
    const { res } = await call('GET', '/models')
    expect(res.statusCode).toBe(200)
    expect(res.json().data.map((m: { id: string; status: { state: string } }) => [m.id, m.status.state])).toEqual([
      ['id-cfg', 'stopped'],
      ['id-api', 'stopped'],
    ])
  })

  it('answers one model by id, and 404 not_found for an unknown id', async () => {
    expect((await call('GET', '/models/id-api')).res.json()).toMatchObject({ id: 'id-api', name: 'api', hasApiKey: false })
    const { res } = await call('GET', '/models/id-nope')
    expect(res.statusCode).toBe(404)
    expect(res.json().error).toMatchObject({ code: 'not_found', message: 'no model with id "id-nope"' })
  })

  it("answers a model's log tail", async () => {
    const fixture = adminApp()
    fixture.models.pushLog('id-api', 'main: server is listening')
    const res = await fixture.app.inject({ url: '/admin/api/models/id-api/logs', headers: auth })
    expect(res.json()).toEqual({ lines: ['main: server is listening'] })
    expect((await fixture.app.inject({ url: '/admin/api/models/id-nope/logs', headers: auth })).statusCode).toBe(404)
  })
})

describe('admin models: edits', () => {
  it('creates a model from a config-file entry: 201 and its view', async () => {
    const { res, models } = await call('POST', '/models', created)
    expect(res.statusCode).toBe(201)
    expect(res.json()).toMatchObject({ id: 'id-qwen', name: 'qwen', origin: 'api' })
    expect(models.calls).toEqual([['create', created]])
  })

  it('patches a model created on the API, and refuses one from the config file with 409', async () => {
    const ok = await call('PATCH', '/models/id-api', { replicas: 3 })
    expect(ok.res.statusCode).toBe(200)
    expect(ok.res.json()).toMatchObject({ id: 'id-api', replicas: 3 })
    const reset = await call('PATCH', '/models/id-api', { gpus: null, ttl: null })
    expect(reset.res.statusCode).toBe(200)
    expect(reset.models.calls.at(-1)).toEqual(['update', 'id-api', { gpus: null, ttl: null }])
    const { res } = await call('PATCH', '/models/id-cfg', { replicas: 3 })
    expect(res.statusCode).toBe(409)
    expect(res.json().error).toMatchObject({ code: 'model_managed_by_config', message: expect.stringContaining('config file') })
  })

  it('dry-runs a model, and 404s an unknown one', async () => {
    const ok = await call('POST', '/models/id-api/dry-run')
    expect(ok.res.statusCode).toBe(200)
    expect(ok.res.json()).toMatchObject({ id: 'id-api', fits: null, warnings: [] })
    expect(ok.models.calls.at(-1)).toEqual(['dryRun', 'id-api'])
    expect((await call('POST', '/models/nope/dry-run')).res.statusCode).toBe(404)
  })

  it('deletes with 204 and no body; 409 for a config model, 404 for an unknown id', async () => {
    const { res, models } = await call('DELETE', '/models/id-api')
    expect(res.statusCode).toBe(204)
    expect(res.body).toBe('')
    expect(models.views.has('id-api')).toBe(false)
    expect((await call('DELETE', '/models/id-cfg')).res.statusCode).toBe(409)
    expect((await call('DELETE', '/models/id-nope')).res.statusCode).toBe(404)
  })
})

describe('admin models: bodies are validated', () => {
  it.each([
    ['create', 'POST', '/models', { ...created, replicas: 0 }, 'replicas', 'replicas: expected an integer from 1 to 64 (got 0)'],
    [
      'create',
      'POST',
      '/models',
      { ...created, replicas: '2' },
      'replicas',
      'replicas: expected an integer from 1 to 64 (got "2")',
    ],
    ['create', 'POST', '/models', { ...created, bogus: 1 }, 'bogus', 'bogus: unknown field "bogus" (allowed: name, aliases,'],
    ['create', 'POST', '/models', { name: 'x', runtime: 'process' }, 'engine', 'engine: missing required field "engine"'],
    ['create', 'POST', '/models', { ...created, engine: 'ollama' }, 'engine', 'engine: expected one of llamacpp, vllm, openai'],
    [
      'create',
      'POST',
      '/models',
      { ...created, ttl: '5 minutes' },
      'ttl',
      'ttl: expected a duration like 30s, 30m, 2h (got "5 minutes")',
    ],
    ['create', 'POST', '/models', { ...created, queue: { size: -1 } }, 'queue.size', 'queue.size: expected an integer >= 0'],
    ['create', 'POST', '/models', { ...created, args: ['-c', 8192] }, 'args[1]', 'args[1]: expected a string (got 8192)'],
    ['create', 'POST', '/models', [created], null, 'request body: expected a JSON object (got a list)'],
    ['patch', 'PATCH', '/models/id-api', { replicas: 0 }, 'replicas', 'replicas: expected an integer from 1 to 64'],
    ['patch', 'PATCH', '/models/id-api', { replica: 2 }, 'replica', 'replica: unknown field "replica"'],
    ['patch', 'PATCH', '/models/id-api', { gpus: [-1] }, 'gpus', 'gpus: expected "all", "none" or a list of GPU indexes'],
  ] as const)('%s %j → 400 invalid_request at %s', async (_what, method, url, body, param, message) => {
    const { res, models } = await call(method, url, body)
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toMatchObject({ code: 'invalid_request', type: 'invalid_request_error', param })
    expect(res.json().error.message).toContain(message)
    expect(models.calls).toEqual([])
  })

  it('answers malformed JSON with 400 invalid_json', async () => {
    const { app } = adminApp()
    const res = await app.inject({
      method: 'POST',
      url: '/admin/api/models',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"name":',
    })
    expect(res.statusCode).toBe(400)
    expect(res.json().error.code).toBe('invalid_json')
  })
})

describe('admin models: lifecycle', () => {
  it('starts without waiting: 202 with the model starting', async () => {
    const { res, models } = await call('POST', '/models/id-api/start')
    expect(res.statusCode).toBe(202)
    expect(res.json().status.state).toBe('starting')
    expect(models.calls).toEqual([['start', 'id-api', { wait: false }]])
  })

  it('starts with ?wait=true: 200 once running', async () => {
    const { res, models } = await call('POST', '/models/id-api/start?wait=true')
    expect(res.statusCode).toBe(200)
    expect(res.json().status.state).toBe('running')
    expect(models.calls).toEqual([['start', 'id-api', { wait: true }]])
  })

  it("answers ?wait=true with the service's model_start_failed: 503, Retry-After and the diagnosis", async () => {
    const fixture = adminApp()
    const diagnosis = { cause: 'model_file_missing', message: 'no file', exitCode: 1, logTail: ['error: no file'] }
    fixture.models.startImpl = () =>
      Promise.reject(
        new CortexError('model_start_failed', 'model "api" did not start: no file', { diagnosis, retryAfterSeconds: 30 }),
      )
    const res = await fixture.app.inject({ method: 'POST', url: '/admin/api/models/id-api/start?wait=true', headers: auth })
    expect(res.statusCode).toBe(503)
    expect(res.headers['retry-after']).toBe('30')
    expect(res.json().error).toMatchObject({
      code: 'model_start_failed',
      type: 'server_error',
      diagnosis: { cause: 'model_file_missing', exit_code: 1, log_tail: ['error: no file'] },
    })
  })

  it('refuses a wait that is not true or false, naming the parameter', async () => {
    const { res, models } = await call('POST', '/models/id-api/start?wait=soon')
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toMatchObject({
      code: 'invalid_request',
      param: 'wait',
      message: 'wait: expected true or false (got "soon")',
    })
    expect(models.calls).toEqual([])
  })

  it.each([
    ['stop', ['stop', 'id-api']],
    ['pin', ['setPinned', 'id-api', true]],
    ['unpin', ['setPinned', 'id-api', false]],
  ])('%s answers 200 with the view', async (action, expected) => {
    const { res, models } = await call('POST', `/models/id-api/${action}`)
    expect(res.statusCode).toBe(200)
    expect(res.json().id).toBe('id-api')
    expect(models.calls).toEqual([expected])
    expect((await call('POST', `/models/id-nope/${action}`)).res.statusCode).toBe(404)
  })
})
