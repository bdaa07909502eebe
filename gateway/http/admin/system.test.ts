import type { AddressInfo } from 'node:net'
import { Pool } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { eventually } from '../fakes.test-support.js'
import { adminApp, auth, systemSample } from './fakes.test-support.js'

const get = (fixture: ReturnType<typeof adminApp>, url: string) =>
  fixture.app.inject({ method: 'GET', url: `/admin/api${url}`, headers: auth })

describe('GET /admin/api/gpus', () => {
  it('answers each GPU of the latest sample with the processes on it and their models', async () => {
    const fixture = adminApp()
    const res = await get(fixture, '/gpus')
    expect(res.statusCode).toBe(200)
    const latest = systemSample(3_000, 45)
    expect(res.json()).toEqual({ data: latest.gpus, at: 3_000, error: null })
    expect(res.json().data[0].processes.map((p: { model: unknown }) => p.model)).toEqual([{ id: 'id-api', name: 'api' }, null])
  })

  it('adds the recent samples, oldest first, with ?history=1', async () => {
    const res = await get(adminApp(), '/gpus?history=1')
    expect(res.json().history).toEqual([
      { at: 1_000, gpus: systemSample(1_000, 10).gpus },
      { at: 3_000, gpus: systemSample(3_000, 45).gpus },
    ])
  })

  it('answers no GPUs with the reason when nvidia-smi fails, as a 200', async () => {
    const fixture = adminApp()
    fixture.system.samples.push({ at: 5_000, gpus: [], host: null, error: 'nvidia-smi failed (9): NVIDIA-SMI has failed' })
    const res = await get(fixture, '/gpus')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ data: [], at: 5_000, error: 'nvidia-smi failed (9): NVIDIA-SMI has failed' })
  })

  it('refuses a history that is not a boolean with 400 at history', async () => {
    const res = await get(adminApp(), '/gpus?history=lots')
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toMatchObject({ code: 'invalid_request', param: 'history' })
  })

  it('needs the admin token', async () => {
    const res = await adminApp().app.inject({ method: 'GET', url: '/admin/api/gpus' })
    expect(res.statusCode).toBe(401)
  })
})

describe('GET /admin/api/system', () => {
  it('answers the hardware and the latest host sample; ?history=1 adds the recent host samples', async () => {
    const fixture = adminApp()
    const plain = await get(fixture, '/system')
    expect(plain.statusCode).toBe(200)
    expect(plain.json()).toEqual({
      cortex: fixture.system.cortexInfo,
      snapshot: fixture.system.hardware,
      host: systemSample(3_000, 45).host,
      at: 3_000,
      error: null,
    })
    const withHistory = await get(fixture, '/system?history=true')
    expect(withHistory.json().history).toEqual([
      { at: 1_000, host: systemSample(1_000, 10).host },
      { at: 3_000, host: systemSample(3_000, 45).host },
    ])
  })
})

describe('GET /admin/api/events and the system monitor', () => {
  let close: () => Promise<void> = async () => {}
  afterEach(() => close())

  it('forwards each sample as a gpu_sample event while the stream is open, and unsubscribes when it closes', async () => {
    const fixture = adminApp()
    await fixture.app.listen({ port: 0, host: '127.0.0.1' })
    const client = new Pool(`http://127.0.0.1:${(fixture.app.server.address() as AddressInfo).port}`)
    close = async () => {
      await client.close()
      await fixture.app.close()
    }
    const ac = new AbortController()
    const res = await client.request({ method: 'GET', path: '/admin/api/events', headers: auth, signal: ac.signal })
    const seen = { text: '' }
    const finished = (async () => {
      for await (const chunk of res.body) seen.text += chunk.toString()
    })()
    await eventually(() => expect(seen.text).toContain('event: snapshot\n'))
    expect(fixture.system.subscriberCount).toBe(1)

    const sample = systemSample(5_000, 99)
    fixture.system.emit(sample)
    await eventually(() =>
      expect(seen.text).toContain(`event: gpu_sample\ndata: ${JSON.stringify({ type: 'gpu_sample', sample })}\n\n`),
    )

    ac.abort()
    await expect(finished).rejects.toThrow()
    await eventually(() => expect(fixture.system.subscriberCount).toBe(0))
  })
})

describe('GET /admin/api/gpus?since', () => {
  it('answers the history from that time on, oldest first', async () => {
    const fixture = adminApp()
    const res = await get(fixture, '/gpus?since=2000')
    expect(res.statusCode).toBe(200)
    expect(res.json().history).toEqual([{ at: 3_000, gpus: systemSample(3_000, 45).gpus }])
    expect((await get(fixture, '/gpus?since=0')).json().history).toHaveLength(2)
    expect((await get(fixture, '/gpus?since=9000')).json().history).toEqual([])
  })

  it('refuses a since that is not epoch milliseconds with 400 at since', async () => {
    const res = await get(adminApp(), '/gpus?since=yesterday')
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toMatchObject({ code: 'invalid_request', param: 'since' })
  })
})
