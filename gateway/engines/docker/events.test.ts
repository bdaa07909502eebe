import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { DockerClient } from './client.js'
import { DeathWatch } from './events.js'
import { FakeDaemon } from './fake-daemon.test-support.js'

const logger = pino({ level: 'silent' })
const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-docker-events-'))
const cleanups: Array<() => Promise<void> | void> = []

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A client and its death watch wired as the runtime wires them, against a fake daemon that is up. */
async function setup(name: string) {
  const fake = new FakeDaemon(path.join(dir, `${name}.sock`))
  await fake.start()
  const client: DockerClient = new DockerClient(fake.address, 20, logger, () => deaths.resume())
  const deaths = new DeathWatch(client, 'inst-1', logger)
  cleanups.push(
    () => fake.stop(),
    () => client.close(),
    () => deaths.close(),
  )
  expect(await client.check()).toBe(true)
  return { fake, client, deaths }
}

describe('DeathWatch', () => {
  it("subscribes once to this instance's die events and settles the watcher of the container that died", async () => {
    const { fake, deaths } = await setup('die')
    await deaths.connect()
    await deaths.connect()
    expect(fake.subscriptions).toHaveLength(1)
    expect(JSON.parse(fake.subscriptions[0]!.get('filters')!)).toEqual({
      type: ['container'],
      event: ['die'],
      label: ['ai.cortex.instance=inst-1'],
    })

    const a = deaths.watch('a')
    const b = deaths.watch('b')
    fake.die('b', 137)
    expect(await b.died).toBe(137)
    fake.die('a', 0)
    expect(await a.died).toBe(0)
  })

  it('an unwatched container settles nothing; settle from outside wins once', async () => {
    const { fake, deaths } = await setup('unwatch')
    await deaths.connect()
    const gone = deaths.watch('gone')
    gone.unwatch()
    const c = deaths.watch('c')
    c.settle(143)
    const sentinel = deaths.watch('sentinel')
    fake.die('gone', 1)
    fake.die('c', 1)
    fake.die('sentinel', 0)
    // Events arrive in order: once the sentinel's is in, the others were handled.
    expect(await sentinel.died).toBe(0)
    expect(await c.died).toBe(143)
    expect(await Promise.race([gone.died, Promise.resolve('pending')])).toBe('pending')
  })

  it('after an outage, resubscribes and catches by inspection the deaths the stream missed', async () => {
    const { fake, client, deaths } = await setup('outage')
    await deaths.connect()
    fake.containers.set('survivor', { running: true, exitCode: 0 })
    fake.containers.set('victim', { running: true, exitCode: 0 })
    const survivor = deaths.watch('survivor')
    const victim = deaths.watch('victim')
    const vanished = deaths.watch('vanished')

    await fake.stop()
    await expect.poll(() => client.status().available).toBe(false)
    // While nobody listened: one container died, one was removed by hand.
    fake.containers.set('victim', { running: false, exitCode: 3 })
    await fake.start()

    expect(await victim.died).toBe(3)
    expect(await vanished.died).toBeNull()
    expect(fake.subscriptions).toHaveLength(2)
    fake.die('survivor', 9)
    expect(await survivor.died).toBe(9)
  })
})
