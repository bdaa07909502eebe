import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../app.js'
import { FakeRegistry, MemoryUsage, memoryLogger, noKeys, testConfig } from '../fakes.test-support.js'
import { CONSOLE_HEADERS } from './ui.js'

/** Issue 11, "Where it lives": the built console at `/`, client routes, and the JSON 404 everywhere else. */

const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-ui-'))
const INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head></html>'
let app: FastifyInstance

const build = (consoleDir: string) =>
  buildApp({
    config: testConfig(),
    registry: new FakeRegistry([]),
    usage: new MemoryUsage(),
    logger: memoryLogger().logger,
    ...noKeys(),
    console: { dir: consoleDir },
  })

beforeAll(() => {
  mkdirSync(path.join(dir, 'assets'), { recursive: true })
  writeFileSync(path.join(dir, 'index.html'), INDEX)
  writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log("cortex")\n')
  app = build(dir)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const page = { accept: 'text/html,application/xhtml+xml' }

describe('the console', () => {
  it('/ is index.html, never cached, with the strict headers', async () => {
    const res = await app.inject({ method: 'GET', url: '/' })
    expect(res.statusCode).toBe(200)
    expect(res.body).toBe(INDEX)
    expect(res.headers['cache-control']).toBe('no-cache')
    expect(res.headers).toMatchObject(CONSOLE_HEADERS)
    expect(res.headers['content-security-policy']).toContain("script-src 'self'")
    expect(res.headers['content-security-policy']).not.toContain('unsafe-inline')
  })

  it('hashed assets are immutable', async () => {
    const res = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect(res.headers['x-content-type-options']).toBe('nosniff')
  })

  it.each(['/models', '/models/abc', '/gpus?range=1h', '/keys'])(
    'a page request for %s gets index.html (client route)',
    async (url) => {
      for (const method of ['GET', 'HEAD'] as const) {
        const res = await app.inject({ method, url, headers: page })
        expect(res.statusCode).toBe(200)
        expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
      }
    },
  )

  it.each([
    ['/v1/nope', page],
    ['/v1', page],
    ['/admin/api/nope', page],
    ['/metrics/x', page],
    ['/health/x', page],
    ['/readyz/x', page],
    ['/models', { accept: 'application/json' }],
    ['/models', {}],
    ['/assets/missing.js', page],
  ])('%s with %j keeps the JSON 404', async (url, headers) => {
    const res = await app.inject({ method: 'GET', url, headers })
    expect(res.statusCode).toBe(404)
    expect(res.json()).toMatchObject({ error: { code: 'not_found' } })
  })

  it('a POST to an unknown path is a JSON 404, whatever it accepts', async () => {
    const res = await app.inject({ method: 'POST', url: '/models', headers: page, payload: {} })
    expect(res.statusCode).toBe(404)
    expect(res.json()).toMatchObject({ error: { code: 'not_found' } })
  })

  it('a checkout whose console is not built says how to build it', async () => {
    const bare = build(path.join(dir, 'no-such-build'))
    const res = await bare.inject({ method: 'GET', url: '/' })
    expect(res.statusCode).toBe(200)
    expect(res.body).toContain('npm run build:console')
    expect(res.headers['content-security-policy']).toBe(CONSOLE_HEADERS['content-security-policy'])
  })
})
