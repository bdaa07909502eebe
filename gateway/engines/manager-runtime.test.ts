import { pino } from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { CortexError, Diagnosis, ModelDefinition } from '../contract/index.js'
import { modelDefinition } from '../contract/model.test-support.js'
import { rejection } from '../../test/support/rejection.js'
import { FakeDriver, FakeHandle, memoryPids } from './fakes.test-support.js'
import { createEngineManager, type EngineManager } from './manager.js'

/** A container-like handle: `detach` lets go of it without stopping it. */
class DetachableHandle extends FakeHandle {
  detached = false
  stopped = false
  detach(): void {
    this.detached = true
  }
  override async stop(): Promise<void> {
    this.stopped = true
    await super.stop()
  }
}

class ContainerDriver extends FakeDriver {
  override async start(ctx: Parameters<FakeDriver['start']>[0]) {
    await super.start(ctx)
    const h = new DetachableHandle(`http://127.0.0.1:${30000 + this.starts}`)
    this.handles.push(h)
    return h
  }
  get last(): DetachableHandle {
    return this.handles.at(-1) as DetachableHandle
  }
}

const logger = pino({ level: 'silent' })
const dockerUnavailable: Diagnosis = {
  cause: 'docker_unavailable',
  message: 'Docker is not running: start it with `sudo systemctl start docker`',
  exitCode: null,
  logTail: [],
}

let manager: EngineManager | undefined
afterEach(async () => {
  await manager?.close()
  manager = undefined
})

function setup(over: Partial<ModelDefinition> = {}, stopOnExit = true, now?: () => number) {
  const driver = new ContainerDriver()
  const def = modelDefinition({ runtime: 'docker', queue: { size: 4, timeoutMs: 5000 }, startTimeoutMs: 5000, ...over })
  manager = createEngineManager({
    models: [def],
    pids: memoryPids(),
    logger,
    llamaServer: null,
    stopOnExit,
    pollMs: 5,
    stopGraceMs: 100,
    drivers: { docker: () => driver },
    ...(now && { now }),
  })
  return { driver, m: manager, def }
}

const signal = () => new AbortController().signal

describe('engine manager with engines that can outlive Cortex', () => {
  it('stopOnExit false: close lets go of a running container instead of stopping it', async () => {
    const { driver, m } = setup({}, false)
    await m.start('tiny')
    await m.close()
    manager = undefined
    expect(driver.last).toMatchObject({ detached: true, stopped: false })
  })

  it('stopOnExit true, and any explicit stop, stop the container', async () => {
    const { driver, m } = setup({}, true)
    await m.start('tiny')
    await m.stop('tiny')
    expect(driver.last).toMatchObject({ detached: false, stopped: true })
    await m.start('tiny')
    await m.close()
    manager = undefined
    expect(driver.last).toMatchObject({ detached: false, stopped: true })
  })

  it('adopt starts the named models (their drivers find the running engines) and ignores unknown ids', async () => {
    const { driver, m, def } = setup()
    m.adopt([def.id, 'm_unknown'])
    await vi.waitFor(() => expect(m.statuses()[0]!.state).toBe('running'))
    expect(driver.starts).toBe(1)
  })

  it('a missing Docker daemon is docker_unavailable, never given up, and the model recovers when it is back', async () => {
    let clock = 1_000_000
    const { driver, m } = setup({}, true, () => clock)
    driver.failWith = dockerUnavailable
    for (let i = 0; i < 7; i++) {
      clock += 60_000 // past any backoff
      const err = (await rejection(m.acquire('tiny', signal()))) as CortexError
      expect(err.code).toBe('docker_unavailable')
      expect(err.status).toBe(503)
      expect(err.message).toContain('Docker is not running')
    }
    const status = m.statuses()[0]!
    expect(status.consecutiveFailures).toBe(7)
    expect(status.retryAt).toBeGreaterThan(clock)
    driver.failWith = null
    clock += 60_000
    const lease = await m.acquire('tiny', signal())
    lease.release()
    expect(m.statuses()[0]).toMatchObject({ state: 'running', consecutiveFailures: 0 })
  })

  it('changing pinned or ttl applies in place; any other change restarts the engine', async () => {
    const { driver, m, def } = setup()
    await m.start('tiny')
    await m.update([{ ...def, pinned: true, ttlMs: 60_000 }])
    expect(m.statuses()[0]).toMatchObject({ state: 'running', pinned: true })
    expect(driver.starts).toBe(1)
    await m.update([{ ...def, pinned: true, args: ['-c', '512'] }])
    expect(m.statuses()[0]!.state).toBe('stopped')
    expect(driver.last.stopped).toBe(true)
  })

  it('follows the log lines of every replica, prefixed when there are several, until unsubscribed', async () => {
    const driver = new FakeDriver()
    const lines: string[] = []
    const logs: Array<(l: string) => void> = []
    driver.start = async (ctx) => {
      logs[ctx.replica] = ctx.log
      return FakeDriver.prototype.start.call(driver, ctx)
    }
    manager = createEngineManager({
      models: [modelDefinition({ replicas: 2, startTimeoutMs: 5000 })],
      pids: memoryPids(),
      logger,
      llamaServer: null,
      stopOnExit: true,
      pollMs: 5,
      drivers: { process: () => driver },
    })
    const off = manager.followLogs('tiny', (l) => lines.push(l))
    await manager.start('tiny')
    logs[0]!('hello')
    logs[1]!('world')
    off()
    logs[0]!('unheard')
    expect(lines).toEqual(['[0] hello', '[1] world'])
    expect(manager.logs('tiny')).toEqual(['[0] hello', '[0] unheard', '[1] world'])
  })

  it('events carry the model id', async () => {
    const { m, def } = setup()
    const ids = new Set<string>()
    m.subscribe((e) => ids.add(e.id))
    await m.start('tiny')
    expect([...ids]).toEqual([def.id])
  })
})
