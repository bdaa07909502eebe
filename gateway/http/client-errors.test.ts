import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOKEN, adminApp } from './admin/fakes.test-support.js'
import { rawRequest as request, rawSend } from './raw-socket.test-support.js'

/** Issue 10, "Every error in the client's envelope, and bounded": bytes as an attacker writes them, on a real socket. */

let app: FastifyInstance
let port: number

beforeAll(async () => {
  app = adminApp().app
  await app.listen({ host: '127.0.0.1', port: 0 })
  port = (app.server.address() as { port: number }).port
})
afterAll(() => app.close())

const close = 'connection: close'
const admin = `authorization: Bearer ${TOKEN}`
const jsonBody = (body: string) => ['content-type: application/json', `content-length: ${Buffer.byteLength(body)}`]

describe('what the HTTP parser refuses', () => {
  it.each([
    ['a header line with no colon', request('GET /v1/models HTTP/1.1', ['Bad Header']), /Invalid header token/],
    ['a control character in a header value', request('GET /v1/models HTTP/1.1', ['x-a: a\u0001b']), /header value char/],
    [
      'Content-Length beside Transfer-Encoding (smuggling)',
      request('POST /v1/chat/completions HTTP/1.1', ['content-length: 3', 'transfer-encoding: chunked'], '0\r\n\r\n'),
      /Transfer-Encoding can't be present with Content-Length/,
    ],
    [
      'a Content-Length that is not a number',
      request('POST /v1/chat/completions HTTP/1.1', ['content-length: abc']),
      /Content-Length/,
    ],
    [
      'a chunk size that is not hex',
      request('POST /v1/chat/completions HTTP/1.1', ['transfer-encoding: chunked'], 'zz\r\n'),
      /chunk size/,
    ],
    ['a method with a control character', 'FOO\u0001 / HTTP/1.1\r\n\r\n', /Invalid method/],
    ['an HTTP version that does not exist', 'GET / HTTP/9.9\r\nhost: x\r\n\r\n', /HTTP version/],
  ])('%s: 400 bad_request in the OpenAI envelope, then the connection closes', async (_name, bytes, reason) => {
    const answer = await rawSend(port, bytes)
    expect(answer.status).toBe(400)
    expect(answer.headers).toContain('connection: close')
    expect(answer.json().error).toMatchObject({ type: 'invalid_request_error', code: 'bad_request', param: null })
    expect(answer.json().error?.message).toMatch(reason)
    expect(answer.json().error?.message).toMatch(/^the request is not valid HTTP\/1\.1: .*; fix the client's request$/)
  })

  it('answers a body cut short by the client closing with 400, on /v1 as elsewhere', async () => {
    const bytes = request(
      'POST /v1/chat/completions HTTP/1.1',
      ['content-length: 100', 'content-type: application/json'],
      '{"a":1}',
    )
    const answer = await rawSend(port, bytes, true)
    expect(answer.status).toBe(400)
    expect(answer.json().error?.code).toBe('bad_request')
  })

  it.each([17_000, 64_000])('answers %i bytes of headers with 431 headers_too_large, naming the limit', async (size) => {
    const answer = await rawSend(port, request('GET /v1/models HTTP/1.1', [`x-big: ${'a'.repeat(size)}`, close]))
    expect(answer.status).toBe(431)
    expect(answer.json().error).toMatchObject({ code: 'headers_too_large', message: expect.stringContaining('16 KiB') })
    expect(answer.body).not.toContain('aaaa')
  })
})

describe('what the router refuses', () => {
  it.each(['/v1/models/%ff', '/admin/api/models/%zz', '/v1/chat/completions%', '/%c0%af'])(
    'a malformed escape in %s: 400 bad_request that says how to write a %%',
    async (path) => {
      const answer = await rawSend(port, request(`GET ${path} HTTP/1.1`, [admin, close]))
      expect(answer.status).toBe(400)
      expect(answer.json().error).toMatchObject({ code: 'bad_request', message: expect.stringContaining('%25') })
    },
  )

  it.each(['/v1/messages/%ff', '/v1//messages/count_tokens%zz'])('on %s the refusal is in Anthropic’s envelope', async (path) => {
    const answer = await rawSend(port, request(`POST ${path} HTTP/1.1`, ['content-length: 0', close]))
    expect(answer.status).toBe(400)
    expect(answer.json()).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: expect.any(String) } })
  })

  it.each([
    'POST http://127.0.0.1/v1/embeddings HTTP/1.1',
    'GET http://evil.example/v1/models HTTP/1.1',
    'GET https://127.0.0.1:1/admin/api/models HTTP/1.1',
    'OPTIONS * HTTP/1.1',
  ])('a request target that is not a path (%s): 400 bad_request, nothing routed', async (line) => {
    const answer = await rawSend(port, request(line, [admin, 'content-length: 0', close]))
    expect(answer.status).toBe(400)
    expect(answer.json().error).toMatchObject({ code: 'bad_request', message: expect.stringContaining('origin-form') })
  })

  it.each(['GET /v1/models HTTP/1.1', 'POST /v1/messages HTTP/1.1'])(
    '%s without a Host header is answered by the Host check in the envelope',
    async (line) => {
      const answer = await rawSend(port, `${line}\r\ncontent-length: 0\r\n${close}\r\n\r\n`)
      expect(answer.status).toBe(403)
      expect(answer.body).toContain('no Host header')
    },
  )

  it.each(['CONNECT 127.0.0.1:22 HTTP/1.1', 'CONNECT evil.example:443 HTTP/1.1'])(
    '%s: 400 bad_request, not a dropped socket',
    async (line) => {
      const answer = await rawSend(port, request(line))
      expect(answer.status).toBe(400)
      expect(answer.json().error).toMatchObject({ code: 'bad_request', message: expect.stringContaining('not a proxy') })
    },
  )

  it('a path segment over 100 characters: 414 uri_too_long, not echoed', async () => {
    const answer = await rawSend(port, request(`GET /admin/api/models/${'a'.repeat(150)} HTTP/1.1`, [admin, close]))
    expect(answer.status).toBe(414)
    expect(answer.json().error?.code).toBe('uri_too_long')
    expect(answer.body).not.toContain('aaaa')
  })

  it('a content-type the route does not take: 415 unsupported_media_type', async () => {
    const answer = await rawSend(
      port,
      request('POST /admin/api/keys HTTP/1.1', [admin, 'content-type: text/xml', 'content-length: 3', close], '<a>'),
    )
    expect(answer.status).toBe(415)
    expect(answer.json().error?.code).toBe('unsupported_media_type')
  })
})

describe('admin JSON bodies', () => {
  const post = (body: string) => rawSend(port, request('POST /admin/api/keys HTTP/1.1', [admin, ...jsonBody(body), close], body))

  it.each([
    ['{"name":"abc","__proto__":{"isAdmin":true}}', '__proto__'],
    ['{"name":"abc","scopes":[{"__proto__":{}}]}', '__proto__'],
    ['{"name":"abc","constructor":{"prototype":{"x":1}}}', 'constructor'],
  ])('%s is refused as a member no field is named, not as invalid JSON', async (body, member) => {
    const answer = await post(body)
    expect(answer.status).toBe(400)
    expect(answer.json().error).toMatchObject({ code: 'invalid_request', param: member })
    expect(answer.json().error?.message).toMatch(new RegExp(`has a "${member}" member.*remove it`))
  })

  it.each([
    ['{"name":', /not valid JSON: .*JSON/],
    ["{'name':'abc'}", /not valid JSON: .*position 1/],
  ])('%j: 400 invalid_json with the parser’s own reason', async (body, reason) => {
    const answer = await post(body)
    expect(answer.status).toBe(400)
    expect(answer.json().error?.code).toBe('invalid_json')
    expect(answer.json().error?.message).toMatch(reason)
  })

  it.each([
    ['POST', '/admin/api/pause', 200],
    ['POST', '/admin/api/resume', 200],
    ['DELETE', '/admin/api/keys/nokey', 404],
  ])('an empty JSON body on %s %s, which takes none, is no body (%i)', async (method, path, status) => {
    const answer = await rawSend(port, request(`${method} ${path} HTTP/1.1`, [admin, ...jsonBody(''), close]))
    expect(answer.status, answer.body).toBe(status)
  })

  it.each(['/admin/api/keys', '/admin/api/models'])('an empty JSON body on %s, which needs one, says so', async (path) => {
    const answer = await rawSend(port, request(`POST ${path} HTTP/1.1`, [admin, ...jsonBody(''), close]))
    expect(answer.status).toBe(400)
    expect(answer.json().error?.message).toMatch(/empty; send a JSON object|expected a JSON object \(got nothing\)/)
  })

  it.each([
    [
      '/admin/api/users',
      { org: 'o', name: 'bob', role: 'member', password: 'p'.repeat(11) },
      'password',
      'at least 12 characters (got 11)',
    ],
    [
      '/admin/api/users',
      { org: 'o', name: 'b'.repeat(65), role: 'member', password: 'p'.repeat(12) },
      'name',
      'at most 64 characters (got 65)',
    ],
    ['/admin/api/orgs', { name: 'o'.repeat(65) }, 'name', 'at most 64 characters (got 65)'],
  ])('%s: %j is refused saying what the bound is', async (path, body, param, expected) => {
    const text = JSON.stringify(body)
    const answer = await rawSend(port, request(`POST ${path} HTTP/1.1`, [admin, ...jsonBody(text), close], text))
    expect(answer.status).toBe(400)
    expect(answer.json().error).toMatchObject({ param, message: `${param}: expected ${expected}` })
  })

  it('a name past its bound is refused naming the bound and the length, not the value', async () => {
    const answer = await post(JSON.stringify({ name: 'n'.repeat(65) }))
    expect(answer.status).toBe(400)
    expect(answer.json().error).toMatchObject({ code: 'invalid_request', param: 'name' })
    expect(answer.json().error?.message).toBe('name: expected at most 64 characters (got 65)')
  })

  it.each([
    [
      'a model',
      '/admin/api/models',
      (name: string) => ({ name, engine: 'openai', runtime: 'remote', baseUrl: 'http://127.0.0.1:9/v1' }),
    ],
    [
      'an alias',
      '/admin/api/models',
      (name: string) => ({ name: 'ok', aliases: [name], engine: 'openai', runtime: 'remote', baseUrl: 'http://127.0.0.1:9/v1' }),
    ],
  ])('%s named with 129 characters or 1 MB is refused naming the bound, not echoed', async (_what, path, body) => {
    for (const length of [129, 1_000_000]) {
      const text = JSON.stringify(body('m'.repeat(length)))
      const answer = await rawSend(port, request(`POST ${path} HTTP/1.1`, [admin, ...jsonBody(text), close], text))
      expect(answer.status, answer.body).toBe(400)
      expect(answer.json().error?.message).toMatch(new RegExp(`expected at most 128 characters \\(got ${length}\\)`))
      expect(answer.body.length).toBeLessThan(1000)
    }
  })

  it.each([
    ['/admin/api/keys', 'models[0]', { name: 'k', models: ['m'.repeat(1_000_000)] }, /at most 128 characters/],
    ['/admin/api/keys', 'ips[0]', { name: 'k', ips: ['1'.repeat(1_000_000)] }, /at most 64 characters/],
    ['/admin/api/keys', 'expires', { name: 'k', expires: '1'.repeat(1_000_000) }, /of 1 to 32 characters/],
    [
      '/admin/api/models',
      'source',
      { name: 'm', engine: 'llamacpp', runtime: 'process', source: `/${'s'.repeat(1_000_000)}` },
      /at most 4096 characters/,
    ],
  ])('%s with a 1 MB %s is refused at its bound, not stored and echoed', async (path, param, body, bound) => {
    const text = JSON.stringify(body)
    const answer = await rawSend(port, request(`POST ${path} HTTP/1.1`, [admin, ...jsonBody(text), close], text))
    expect(answer.status, answer.body.slice(0, 300)).toBe(400)
    expect(answer.json().error).toMatchObject({ param, message: expect.stringMatching(bound) })
    expect(answer.body.length).toBeLessThan(1000)
  })

  it.each(['/admin/api/keys', '/admin/api/orgs'])('a 1 MB unknown field on %s is named cut, not echoed', async (path) => {
    const text = JSON.stringify({ name: 'k', ['f'.repeat(1_000_000)]: 1 })
    const answer = await rawSend(port, request(`POST ${path} HTTP/1.1`, [admin, ...jsonBody(text), close], text))
    expect(answer.status).toBe(400)
    expect(answer.json().error?.message).toMatch(/^f{64}…: unknown field "f{64}…" \(1000000 characters\)/)
    expect(answer.body.length).toBeLessThan(1000)
  })

  it('a YAML alias bomb on the recipe import is a 400 naming the alias limit, and the server goes on', async () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for (let i = 1; i < 9; i++)
      lines.push(
        `l${i}: &l${i} [${Array(10)
          .fill(i === 1 ? '*a' : `*l${i - 1}`)
          .join(',')}]`,
      )
    const yaml = lines.join('\n') + '\n'
    const answer = await rawSend(
      port,
      request(
        'POST /admin/api/recipes/import HTTP/1.1',
        [admin, 'content-type: application/yaml', `content-length: ${Buffer.byteLength(yaml)}`, close],
        yaml,
      ),
    )
    expect(answer.status).toBe(400)
    expect(answer.json().error?.message).toMatch(/^recipe is not valid YAML: line 2: expected at most 100 alias expansions/)
    const after = await rawSend(port, request('GET /admin/api/recipes HTTP/1.1', [admin, close]))
    expect(after.status).toBe(200)
  })
})
