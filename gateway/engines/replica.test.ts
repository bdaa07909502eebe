import { pino } from 'pino'
import { describe, expect, it, vi } from 'vitest'
import type { EngineState } from '../contract/index.js'
import { modelDefinition } from '../contract/model.test-support.js'
import type { Driver, DriverHandle, ExitInfo, Health, StartContext } from './driver.js'
import { Replica } from './replica.js'

const def = modelDefinition({ queue: { size: 1, timeoutMs: 1000 }, startTimeoutMs: 200 })

function handle(url: string): DriverHandle & { exit(e: ExitInfo): void; stops: number } {
  let exit!: (e: ExitInfo) => void
  const exited = new Promise<ExitInfo>((r) => (exit = r))
  const h = {
    url,
    exited,
    exit,
    stops: 0,
    async stop() {
      h.stops++
      exit({ code: null, signal: 'SIGTERM' })
      await exited
    },
  }
  return h
}

function replica(driver: Driver) {
  const states: EngineState[] = []
  const r = new Replica({
    index: 0,
    def,
    driver,
    logger: pino({ level: 'silent' }),
    now: Date.now,
    pollMs: 5,
    stopGraceMs: 50,
    onChange: (x, transitioned) => transitioned && states.push(x.state),
  })
  return { r, states }
}

describe('Replica', () => {
  it('refuses an illegal transition loudly', () => {
    const { r } = replica({
      runningCheckMs: null,
      probe: async () => ({ status: 'loading' }),
      start: async () => handle('http://x'),
    })
    r.start()
    expect(() => r.start()).toThrow(/illegal transition starting → starting/)
    return r.stop()
  })

  it('retries once with a new port when the engine could not bind', async () => {
    const urls: string[] = []
    const driver: Driver = {
      runningCheckMs: null,
      probe: async (url): Promise<Health> =>
        url.endsWith(':1') ? { status: 'down', reason: 'ECONNREFUSED' } : { status: 'ready' },
      async start(ctx: StartContext) {
        const h = handle(`http://127.0.0.1:${urls.length + 1}`)
        urls.push(h.url)
        if (urls.length === 1) {
          ctx.log("0.00.013.505 E srv         start: couldn't bind HTTP server socket, hostname: 127.0.0.1, port: 1")
          setTimeout(() => h.exit({ code: 1, signal: null }), 10)
        }
        return h
      },
    }
    const { r, states } = replica(driver)
    r.start()
    await vi.waitFor(() => expect(r.state).toBe('running'))
    expect(urls).toEqual(['http://127.0.0.1:1', 'http://127.0.0.1:2'])
    expect(states).toEqual(['starting', 'running'])
    expect(r.failures).toBe(0)
    await r.stop()
    expect(states).toEqual(['starting', 'running', 'stopping', 'stopped'])
  })

  it('fails with start_timeout and ends the process when never ready', async () => {
    const h = handle('http://127.0.0.1:9')
    const { r, states } = replica({ runningCheckMs: null, probe: async () => ({ status: 'loading' }), start: async () => h })
    r.start()
    await vi.waitFor(() => expect(r.state).toBe('failed'), { timeout: 2000 })
    expect(r.diagnosis?.cause).toBe('start_timeout')
    expect(h.stops).toBe(1)
    expect(states).toEqual(['starting', 'loading', 'failed'])
    expect(r.retryAt).not.toBeNull()
  })

  it('a stop during a start ends the process and lands in stopped, not failed', async () => {
    const h = handle('http://127.0.0.1:9')
    const { r, states } = replica({ runningCheckMs: null, probe: async () => ({ status: 'loading' }), start: async () => h })
    r.start()
    await vi.waitFor(() => expect(r.state).toBe('loading'))
    await r.stop()
    expect(h.stops).toBe(1)
    expect(states).toEqual(['starting', 'loading', 'stopping', 'stopped'])
    expect(r.failures).toBe(0)
  })
})
