import { pino } from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Diagnosis } from '../contract/index.js'
import { modelDefinition } from '../contract/model.test-support.js'
import { FakeDriver, memoryPids } from './fakes.test-support.js'
import { createEngineManager, type EngineManager } from './manager.js'

let manager: EngineManager | undefined
afterEach(async () => {
  await manager?.close()
  manager = undefined
})

function setup() {
  const clock = { t: 1_000_000 }
  const driver = new FakeDriver()
  manager = createEngineManager({
    models: [modelDefinition({ startTimeoutMs: 5000 })],
    pids: memoryPids(),
    logger: pino({ level: 'silent' }),
    llamaServer: null,
    stopOnExit: true,
    pollMs: 5,
    stopGraceMs: 100,
    drivers: { process: () => driver },
    now: () => clock.t,
  })
  return { clock, driver, m: manager, status: () => manager!.statuses()[0]! }
}

const boom: Diagnosis = { cause: 'exited', message: 'llama-server exited with code 1', exitCode: 1, logTail: [] }

describe('ModelStatus › start timing', () => {
  it('shows since when a start runs, and how long the last successful one took', async () => {
    const { clock, driver, m, status } = setup()
    expect(status()).toMatchObject({ startingSince: null, lastStartMs: null })

    driver.health = { status: 'loading' }
    const started = m.start('tiny')
    await vi.waitFor(() => expect(status().state).toBe('loading'))
    expect(status()).toMatchObject({ startingSince: 1_000_000, lastStartMs: null })

    clock.t += 4200
    driver.health = { status: 'ready' }
    await started
    expect(status()).toMatchObject({ state: 'running', startingSince: null, lastStartMs: 4200 })

    // The next start is timed against the last one, which stays shown until it succeeds.
    await m.stop('tiny')
    driver.health = { status: 'loading' }
    const again = m.start('tiny')
    await vi.waitFor(() => expect(status().state).toBe('loading'))
    expect(status()).toMatchObject({ startingSince: clock.t, lastStartMs: 4200 })
    clock.t += 1500
    driver.health = { status: 'ready' }
    await again
    expect(status()).toMatchObject({ startingSince: null, lastStartMs: 1500 })
  })

  it('a failed or stopped start records no duration', async () => {
    const { clock, driver, m, status } = setup()
    driver.failWith = boom
    await expect(m.start('tiny')).rejects.toMatchObject({ code: 'model_start_failed' })
    expect(status()).toMatchObject({ state: 'failed', startingSince: null, lastStartMs: null })

    clock.t += 1000 // past the restart backoff
    driver.failWith = null
    driver.health = { status: 'loading' }
    const gaveUp = new AbortController()
    const request = m.acquire('tiny', gaveUp.signal).catch((err: unknown) => err)
    await vi.waitFor(() => expect(status().state).toBe('loading'))
    gaveUp.abort()
    await request
    clock.t += 900
    await m.stop('tiny')
    expect(status()).toMatchObject({ state: 'stopped', startingSince: null, lastStartMs: null })
  })
})
