import { pino } from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ModelDefinition } from '../contract/index.js'
import { modelDefinition } from '../contract/model.test-support.js'
import { FakeDriver, memoryPids } from './fakes.test-support.js'
import { createEngineManager, type EngineManager } from './manager.js'
import { createScheduler, type Scheduler } from './scheduler.js'

const logger = pino({ level: 'silent' })
const NIGHT = [{ days: [], from: 120, to: 360, timeZone: 'UTC' }] as ModelDefinition['schedule']
const DAY = [{ days: [], from: 360, to: 120, timeZone: 'UTC' }] as ModelDefinition['schedule']

let manager: EngineManager | undefined
let scheduler: Scheduler | undefined
afterEach(async () => {
  scheduler?.close()
  await manager?.close()
})

function setup(clock: { t: number }, defs: ModelDefinition[]) {
  const events: string[] = []
  manager = createEngineManager({
    models: defs,
    pids: memoryPids(),
    logger,
    llamaServer: null,
    stopOnExit: true,
    pollMs: 5,
    stopGraceMs: 50,
    drivers: { process: () => new FakeDriver() },
  })
  manager.subscribe((e) => events.push(`${e.model}:${e.state}:${e.reason}`))
  scheduler = createScheduler({ engines: manager, models: () => defs, now: () => clock.t, logger, drainPollMs: 5 })
  const state = (name: string) => manager!.statuses().find((s) => s.name === name)!.state
  return { m: manager, s: scheduler, state, events }
}

describe('scheduler', () => {
  it('announces each window’s edge once, with when it next changes', async () => {
    const clock = { t: Date.parse('2026-03-02T01:59:00Z') }
    const night = modelDefinition({ id: 'id-night', name: 'night', schedule: NIGHT })
    const day = modelDefinition({ id: 'id-day', name: 'day', schedule: DAY })
    const { s } = setup(clock, [night, day])
    const seen: unknown[] = []
    s.subscribe((e) => seen.push(e))
    await s.tick()
    // The first tick learns where the windows are; only a change from then on is an edge.
    expect(seen).toEqual([])
    clock.t = Date.parse('2026-03-02T02:00:00Z')
    await s.tick()
    await s.tick()
    expect(seen).toEqual([
      { type: 'schedule', id: 'id-night', name: 'night', open: true, nextChangeAt: Date.parse('2026-03-02T06:00:00Z') },
      { type: 'schedule', id: 'id-day', name: 'day', open: false, nextChangeAt: Date.parse('2026-03-02T06:00:00Z') },
    ])
  })

  it('preloads a model when its window opens and drains it when it ends; the day model takes over at the boundary', async () => {
    const clock = { t: Date.parse('2026-03-02T01:59:00Z') }
    const night = modelDefinition({ id: 'id-night', name: 'night', schedule: NIGHT, preload: true, pinned: true })
    const day = modelDefinition({ id: 'id-day', name: 'day', schedule: DAY, preload: true })
    const { s, state, events } = setup(clock, [night, day])
    await s.tick()
    await vi.waitFor(() => expect(state('day')).toBe('running'))
    expect(state('night')).toBe('stopped')

    clock.t = Date.parse('2026-03-02T02:00:00Z')
    await s.tick()
    // The day model's window ended: it stopped first (the schedule beats pinned too), then the night one started.
    expect(state('day')).toBe('stopped')
    await vi.waitFor(() => expect(state('night')).toBe('running'))
    expect(events).toContain('day:stopped:scheduled')
    expect(events.indexOf('day:stopped:scheduled')).toBeLessThan(events.indexOf('night:starting:requested'))

    clock.t = Date.parse('2026-03-02T06:00:00Z')
    await s.tick()
    expect(state('night')).toBe('stopped')
    await vi.waitFor(() => expect(state('day')).toBe('running'))
  })

  it('a drain lets in-flight requests finish, and cuts them after drainTimeout', async () => {
    const clock = { t: Date.parse('2026-03-02T03:00:00Z') }
    const night = modelDefinition({ id: 'id-night', name: 'night', schedule: NIGHT, drainTimeoutMs: 60_000 })
    const { m, s, state } = setup(clock, [night])
    const lease = await m.acquire('night', new AbortController().signal)
    clock.t = Date.parse('2026-03-02T06:00:00Z')
    const draining = s.tick()
    await new Promise((r) => setTimeout(r, 50))
    expect(state('night')).toBe('running') // the request in flight may finish
    lease.release()
    await draining
    expect(state('night')).toBe('stopped')

    // Past the drain timeout a request still in flight does not hold the stop.
    clock.t = Date.parse('2026-03-03T03:00:00Z')
    const held = await m.acquire('night', new AbortController().signal)
    clock.t = Date.parse('2026-03-03T06:00:00Z')
    const cut = s.tick()
    clock.t += 61_000
    await cut
    expect(state('night')).toBe('stopped')
    held.release()
  })

  it('leaves unscheduled models and models without preload alone', async () => {
    const clock = { t: Date.parse('2026-03-02T03:00:00Z') }
    const plain = modelDefinition({ id: 'id-plain', name: 'plain' })
    const lazy = modelDefinition({ id: 'id-lazy', name: 'lazy', schedule: NIGHT })
    const { m, s, state } = setup(clock, [plain, lazy])
    await m.start('plain')
    await s.tick()
    expect([state('plain'), state('lazy')]).toEqual(['running', 'stopped'])
    // The status says whether a schedule is open and when it next changes (the console shows it); none without one.
    const [plainStatus, lazyStatus] = m.statuses()
    expect(plainStatus!.schedule).toBeUndefined()
    expect(lazyStatus!.schedule).toEqual({ open: expect.any(Boolean), nextChangeAt: expect.any(Number) })
    const { open, nextChangeAt } = lazyStatus!.schedule!
    expect(new Date(nextChangeAt!).getUTCHours()).toBe(open ? 6 : 2)
  })
})
