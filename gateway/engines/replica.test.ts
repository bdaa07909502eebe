import { pino, type Logger } from 'pino'
import { describe, expect, it, vi } from 'vitest'
import type { EngineState, ModelDefinition } from '../contract/index.js'
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

interface Over {
  def?: ModelDefinition
  now?: () => number
  logger?: Logger
}

function replica(driver: Driver, over: Over = {}) {
  const states: EngineState[] = []
  const r = new Replica({
    index: 0,
    def: over.def ?? def,
    driver,
    logger: over.logger ?? pino({ level: 'silent' }),
    now: over.now ?? Date.now,
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

describe('Replica start bounds', () => {
  const remoteDef = modelDefinition({
    engine: 'openai',
    runtime: 'remote',
    source: undefined,
    baseUrls: ['http://10.0.0.9:8000/v1'],
    startTimeoutMs: 300_000,
  })
  /** A remote-style driver whose probes answer `down`, each moving the fake clock by `stepMs`. */
  const unreachable = (clock: { t: number }, stepMs: number) => {
    const d = {
      probes: 0,
      runningCheckMs: null,
      unreachableAfter: { probes: 3, ms: 5000 },
      probe: async (): Promise<Health> => {
        d.probes++
        clock.t += stepMs
        return { status: 'down', reason: 'ECONNREFUSED' }
      },
      start: async () => handle('http://10.0.0.9:8000/v1'),
    }
    return d
  }

  it('a remote that keeps answering down fails as unreachable after 5 s when probes are quick', async () => {
    const clock = { t: 0 }
    const driver = unreachable(clock, 1000)
    const { r, states } = replica(driver, { def: remoteDef, now: () => clock.t })
    r.start()
    await vi.waitFor(() => expect(r.state).toBe('failed'))
    expect(driver.probes).toBe(5)
    expect(states).toEqual(['starting', 'failed'])
    expect(r.diagnosis).toMatchObject({
      cause: 'remote_unreachable',
      message:
        'could not reach http://10.0.0.9:8000/v1/models: ECONNREFUSED — is the server running? ' +
        'check `baseUrl` of model "tiny" in cortex.yaml',
    })
    expect(r.failures).toBe(1)
  })

  it('a remote that keeps answering down fails after 3 probes when probes are slow', async () => {
    const clock = { t: 0 }
    const driver = unreachable(clock, 3000)
    const { r } = replica(driver, { def: remoteDef, now: () => clock.t })
    r.start()
    await vi.waitFor(() => expect(r.state).toBe('failed'))
    expect(driver.probes).toBe(3)
    expect(r.diagnosis?.cause).toBe('remote_unreachable')
  })

  it('a process engine that refuses connections is still loading until the start timeout', async () => {
    const clock = { t: 0 }
    const driver = { ...unreachable(clock, 1000), unreachableAfter: undefined }
    const { r } = replica(driver, { def: modelDefinition({ startTimeoutMs: 20_000 }), now: () => clock.t })
    r.start()
    await vi.waitFor(() => expect(r.state).toBe('failed'))
    expect(r.diagnosis?.cause).toBe('start_timeout')
    expect(clock.t).toBe(20_000)
  })

  it('startTimeout 0 is no deadline', async () => {
    let t = 0
    let probes = 0
    const driver: Driver = {
      runningCheckMs: null,
      probe: async (): Promise<Health> => {
        t += 3_600_000
        return ++probes < 4 ? { status: 'loading' } : { status: 'ready' }
      },
      start: async () => handle('http://127.0.0.1:9'),
    }
    const { r, states } = replica(driver, { def: modelDefinition({ startTimeoutMs: 0 }), now: () => t })
    r.start()
    await vi.waitFor(() => expect(r.state).toBe('running'))
    expect(states).toEqual(['starting', 'loading', 'running'])
    await r.stop()
  })
})

describe('Replica while running', () => {
  it('a remote leaves routing only after 3 failed health checks in a row', async () => {
    // Ready to start; then one timeout, two down, ready, then down for good.
    const script: Health[] = [
      { status: 'ready' },
      { status: 'down', reason: 'UND_ERR_HEADERS_TIMEOUT' },
      { status: 'down', reason: 'ECONNREFUSED' },
      { status: 'ready' },
    ]
    let probes = 0
    const driver: Driver = {
      runningCheckMs: 5,
      probe: async (): Promise<Health> => {
        probes++
        return script.shift() ?? { status: 'down', reason: 'ECONNREFUSED' }
      },
      start: async () => handle('http://10.0.0.9:8000/v1'),
    }
    const { r, states } = replica(driver)
    r.start()
    await vi.waitFor(() => expect(r.state).toBe('failed'))
    expect(probes).toBe(7)
    expect(states).toEqual(['starting', 'running', 'failed'])
    expect(r.diagnosis?.message).toMatch(/^could not reach http:\/\/10\.0\.0\.9:8000\/v1\/models: ECONNREFUSED/)
  })

  it("diagnoses a crash from the current attempt's log lines only", async () => {
    const handles: Array<ReturnType<typeof handle>> = []
    const driver: Driver = {
      runningCheckMs: null,
      probe: async (url): Promise<Health> =>
        url.endsWith(':1') ? { status: 'down', reason: 'ECONNREFUSED' } : { status: 'ready' },
      async start(ctx: StartContext) {
        const h = handle(`http://127.0.0.1:${handles.length + 1}`)
        handles.push(h)
        if (handles.length === 1) {
          ctx.log("0.00.013.505 E srv         start: couldn't bind HTTP server socket, hostname: 127.0.0.1, port: 1")
          setTimeout(() => h.exit({ code: 1, signal: null }), 10)
        } else ctx.log('0.00.020.000 I srv  llama_server: model loaded')
        return h
      },
    }
    const { r } = replica(driver)
    r.start()
    await vi.waitFor(() => expect(r.state).toBe('running'))
    handles[1]!.exit({ code: 1, signal: null })
    await vi.waitFor(() => expect(r.state).toBe('failed'))
    expect(r.diagnosis).toMatchObject({ cause: 'exited', logTail: ['0.00.020.000 I srv  llama_server: model loaded'] })
  })
})

describe('Replica failure log', () => {
  it('logs cause, message and the last log lines at warn when a start fails', async () => {
    const records: Array<Record<string, unknown>> = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => records.push(JSON.parse(line)) })
    const h = handle('http://127.0.0.1:9')
    const driver: Driver = {
      runningCheckMs: null,
      probe: async () => ({ status: 'loading' }),
      async start(ctx: StartContext) {
        ctx.log("0.00.105.647 E gguf_init_from_file: failed to open GGUF file '/x.gguf' (No such file or directory)")
        setTimeout(() => h.exit({ code: 1, signal: null }), 5)
        return h
      },
    }
    const { r } = replica(driver, { logger })
    r.start()
    await vi.waitFor(() => expect(r.state).toBe('failed'))
    expect(records).toContainEqual(
      expect.objectContaining({
        level: 40,
        cause: 'model_file_missing',
        msg: 'model file /x.gguf does not exist: check `source` in cortex.yaml',
        logTail: ["0.00.105.647 E gguf_init_from_file: failed to open GGUF file '/x.gguf' (No such file or directory)"],
      }),
    )
  })
})

describe('Replica lifecycle error', () => {
  it('fails at once, and stop() resolves only once the engine the broken run held has stopped', async () => {
    let stopped!: () => void
    const h = handle('http://127.0.0.1:9')
    const slowStop = new Promise<void>((resolve) => (stopped = resolve))
    h.stop = async () => {
      h.stops++
      await slowStop
      h.exit({ code: null, signal: 'SIGKILL' })
    }
    const driver: Driver = {
      runningCheckMs: null,
      // A probe that throws while nothing aborted it is a bug in the run, not an engine failure.
      probe: async () => {
        throw new Error('probe bug')
      },
      start: async () => h,
    }
    const { r } = replica(driver)
    r.start()
    await vi.waitFor(() => expect(r.state).toBe('failed'))
    expect(r.diagnosis?.cause).toBe('internal_error')
    expect(h.stops).toBe(1)
    let done = false
    const stopping = r.stop().then(() => (done = true))
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(done).toBe(false)
    stopped()
    await stopping
    expect(r.state).toBe('stopped')
  })
})
