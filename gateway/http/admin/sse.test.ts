import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Pool } from 'undici'
import type { FastifyInstance } from 'fastify'
import { eventually } from '../fakes.test-support.js'
import { adminApp, auth, type FakeModelService } from './fakes.test-support.js'
import { modelView } from '../../contract/admin.test-support.js'

let app: FastifyInstance
let models: FakeModelService
let client: Pool

beforeEach(async () => {
  ;({ app, models } = adminApp())
  await app.listen({ port: 0, host: '127.0.0.1' })
  // A connection per stream: a request pipelined behind an open stream would wait for it to end.
  client = new Pool(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, { connections: 4 })
})

afterEach(async () => {
  vi.useRealTimers()
  await client.close()
  await app.close()
})

/** Opens a stream and collects what arrives in `seen.text`; `finished` settles when the server ends it. */
async function open(path: string) {
  const ac = new AbortController()
  const res = await client.request({ method: 'GET', path: `/admin/api${path}`, headers: auth, signal: ac.signal })
  const seen = { text: '' }
  const finished = (async () => {
    for await (const chunk of res.body) seen.text += chunk.toString()
  })()
  return { res, seen, finished, abort: () => ac.abort() }
}

describe('GET /admin/api/events', () => {
  it('sends a snapshot first, then each change as its own event, and unsubscribes when the client goes away', async () => {
    const stream = await open('/events')
    expect(stream.res.statusCode).toBe(200)
    expect(stream.res.headers['content-type']).toBe('text/event-stream')
    expect(stream.res.headers['cache-control']).toBe('no-cache')
    expect(stream.res.headers['x-request-id']).toBeDefined()
    const snapshot = `event: snapshot\ndata: ${JSON.stringify(models.snapshot())}\n\n`
    await eventually(() => expect(stream.seen.text).toBe(snapshot))
    expect(models.subscriberCount).toBe(1)

    const state = { type: 'model_state', id: 'id-api', name: 'api', state: 'starting', reason: 'requested' } as const
    const removed = { type: 'model_removed', id: 'id-cfg', name: 'cfg' } as const
    models.emit(state)
    models.emit(removed)
    await eventually(() =>
      expect(stream.seen.text).toBe(
        `${snapshot}event: model_state\ndata: ${JSON.stringify(state)}\n\nevent: model_removed\ndata: ${JSON.stringify(removed)}\n\n`,
      ),
    )

    stream.abort()
    await expect(stream.finished).rejects.toThrow()
    await eventually(() => expect(models.subscriberCount).toBe(0))
  })

  it('sends a keep-alive comment every 15 s while nothing happens', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const stream = await open('/events')
    await eventually(() => expect(stream.seen.text).toMatch(/^event: snapshot\n/))
    vi.advanceTimersByTime(15_000)
    await eventually(() => expect(stream.seen.text).toMatch(/\n\n: keep-alive\n\n$/))
    stream.abort()
    await expect(stream.finished).rejects.toThrow()
    await eventually(() => expect(models.subscriberCount).toBe(0))
  })

  it('cuts a client that stops reading once a bounded amount is waiting for it, and unsubscribes it', async () => {
    // The body is never read: undici stops reading the socket, the kernel's buffers fill, then the server's.
    const res = await client.request({ method: 'GET', path: '/admin/api/events', headers: auth })
    expect(res.statusCode).toBe(200)
    const big = {
      type: 'image_pull',
      image: 'x',
      layer: null,
      status: 'x'.repeat(64 * 1024),
      current: null,
      total: null,
    } as const
    for (let sent = 0; models.subscriberCount > 0; sent++) {
      // Bounded: far more than loopback socket buffers and the 1 MiB limit together.
      expect(sent).toBeLessThan(2000)
      models.emit(big)
      await new Promise((resolve) => setImmediate(resolve))
    }
    await expect(res.body.text()).rejects.toThrow()
  })

  it('needs the admin token', async () => {
    const res = await client.request({ method: 'GET', path: '/admin/api/events' })
    expect(res.statusCode).toBe(401)
    expect(((await res.body.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key')
  })
})

describe('GET /admin/api/models/{id}/logs?follow=1', () => {
  it('sends the tail, then each new line as it is written, and stops following when the client goes away', async () => {
    models.pushLog('id-api', 'load_model: loading model')
    models.pushLog('id-api', 'main: server is listening')
    const stream = await open('/models/id-api/logs?follow=1')
    expect(stream.res.headers['content-type']).toBe('text/event-stream')
    const tail = 'data: load_model: loading model\n\ndata: main: server is listening\n\n'
    await eventually(() => expect(stream.seen.text).toBe(tail))
    expect(models.followersOf('id-api')).toBe(1)

    models.pushLog('id-api', 'slot 0: prompt done')
    models.pushLog('id-api', 'two\nlines')
    models.pushLog('id-cfg', 'another model')
    await eventually(() => expect(stream.seen.text).toBe(`${tail}data: slot 0: prompt done\n\ndata: two\ndata: lines\n\n`))

    stream.abort()
    await expect(stream.finished).rejects.toThrow()
    await eventually(() => expect(models.followersOf('id-api')).toBe(0))
  })

  it('answers an unknown id with the 404 envelope, not a stream', async () => {
    const res = await client.request({ method: 'GET', path: '/admin/api/models/id-nope/logs?follow=1', headers: auth })
    expect(res.statusCode).toBe(404)
    expect(((await res.body.json()) as { error: { code: string } }).error.code).toBe('not_found')
    expect(models.followersOf('id-nope')).toBe(0)
  })
})

describe('closing the server', () => {
  it('ends open streams cleanly, unsubscribes them and lets close() finish', async () => {
    models.views.set('id-x', modelView({ id: 'id-x', name: 'x' }))
    const events = await open('/events')
    const logs = await open('/models/id-x/logs?follow=true')
    await eventually(() => expect(events.seen.text).toContain('event: snapshot'))
    await eventually(() => expect(models.followersOf('id-x')).toBe(1))

    await app.close()
    await events.finished
    await logs.finished
    expect(models.subscriberCount).toBe(0)
    expect(models.followersOf('id-x')).toBe(0)
  })
})
