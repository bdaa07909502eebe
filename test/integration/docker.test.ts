import { randomBytes } from 'node:crypto'
import { copyFileSync, createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import type { CortexError, ModelDefinition } from '../../gateway/contract/index.js'
import { containerPlan, planHash } from '../../gateway/engines/backends/container.js'
import { createDockerRuntime } from '../../gateway/engines/docker/runtime.js'
import type { DockerRuntime, PullProgress } from '../../gateway/engines/docker/types.js'
import type { Driver, DriverHandle, StartFailure } from '../../gateway/engines/driver.js'
import { dockerSuite, testDocker } from '../support/docker.js'
import { modelDefinition } from '../../gateway/contract/model.test-support.js'
import { rejection } from '../support/rejection.js'

const suite = dockerSuite(inject('docker'))
const instance = `test-${randomBytes(4).toString('hex')}`
const otherInstance = `${instance}-other`
const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-docker-'))
const tiny = path.join(dir, 'tiny.gguf')
const logger = pino({ level: 'silent' })
const runtimes: DockerRuntime[] = []

const def = (over: Partial<ModelDefinition> = {}): ModelDefinition =>
  modelDefinition({
    id: 'tiny-id',
    name: 'tiny',
    aliases: [],
    engine: 'llamacpp',
    runtime: 'docker',
    source: tiny,
    // One slot and a small context keep each engine light on a two-core machine.
    args: ['-c', '256', '-np', '1', '-t', '1'],
    queue: { size: 8, timeoutMs: 30_000 },
    startTimeoutMs: 60_000,
    gpus: 'none',
    image: suite.image ?? undefined,
    network: 'host',
    ...over,
  })

function runtime(): DockerRuntime {
  const rt = createDockerRuntime({ instance, logger, dockerHost: process.env.DOCKER_HOST, hasGpus: false, hfCache: dir })
  runtimes.push(rt)
  return rt
}

const context = () => {
  const lines: string[] = []
  return { lines, ctx: { replica: 0, log: (line: string) => lines.push(line) } }
}

const ready = (driver: Driver, h: DriverHandle) =>
  expect
    .poll(() => driver.probe(h.url, AbortSignal.timeout(5000)).then((health) => health.status), { timeout: 60_000, interval: 50 })
    .toBe('ready')

const own = (inst = instance) => {
  const { docker } = testDocker()
  return docker.listContainers({ all: true, filters: { label: [`ai.cortex.instance=${inst}`] } })
}

describe.skipIf(suite.skip !== null)(
  `Docker runtime against the real daemon${suite.skip ? ` — skipped: ${suite.skip}` : ''}`,
  () => {
    const { docker } = testDocker()

    beforeAll(() => copyFileSync(inject('tinyModel'), tiny))

    afterEach(async () => {
      await Promise.all(runtimes.splice(0).map((rt) => rt.close()))
      // A failed test must not leave containers behind for the next one.
      for (const c of [...(await own()), ...(await own(otherInstance))]) await docker.getContainer(c.Id).remove({ force: true })
    })

    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    it('starts a labelled container that serves a chat completion, and stop removes it', async () => {
      const driver = runtime().driver(def())
      const { lines, ctx } = context()
      const h = await driver.start(ctx)
      await ready(driver, h)

      const res = await fetch(`${h.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }),
      })
      expect(res.status).toBe(200)
      expect(((await res.json()) as { model: string }).model).toBe('tiny')
      expect(lines.some((l) => l.includes('model loaded'))).toBe(true)

      const [c, ...more] = await own()
      expect(more).toEqual([])
      expect(c!.Names).toEqual([`/cortex-${instance}-tiny-0`])
      expect(c!.Labels).toEqual({
        'ai.cortex.managed': 'true',
        'ai.cortex.instance': instance,
        'ai.cortex.model': 'tiny-id',
        'ai.cortex.replica': '0',
        'ai.cortex.plan-hash': planHash(containerPlan(def(), { hasGpus: false, hfCache: dir })),
        'ai.cortex.port': new URL(h.url).port,
      })

      await h.stop(5000)
      expect(await own()).toEqual([])
      await expect(h.exited).resolves.toMatchObject({ signal: null })
    })

    it('a killed container: exited settles with 137 after its log lines are in, then the container is removed', async () => {
      const driver = runtime().driver(def())
      const { lines, ctx } = context()
      const h = await driver.start(ctx)
      await ready(driver, h)
      const [c] = await own()

      await docker.getContainer(c!.Id).kill()
      expect(await h.exited).toEqual({ code: 137, signal: null })
      expect(lines.some((l) => l.includes('listening on http://127.0.0.1'))).toBe(true)
      await expect.poll(() => own()).toEqual([])
      await h.stop(5000)
    })

    it('a detached container keeps running and a second runtime of the same instance adopts it', async () => {
      const first = runtime()
      const h1 = await first.driver(def()).start(context().ctx)
      const [before] = await own()
      h1.detach!()
      await first.close()
      expect((await docker.getContainer(before!.Id).inspect()).State.Running).toBe(true)

      const second = runtime()
      expect(await second.reconcile([def()])).toEqual(['tiny-id'])
      const driver = second.driver(def())
      const h2 = await driver.start(context().ctx)
      expect(h2.url).toBe(h1.url)
      expect((await own()).map((c) => c.Id)).toEqual([before!.Id])
      await ready(driver, h2)

      await h2.stop(5000)
      expect(await own()).toEqual([])
    })

    it('a changed definition replaces the stale container', async () => {
      const first = runtime()
      const h1 = await first.driver(def()).start(context().ctx)
      const [stale] = await own()
      h1.detach!()
      await first.close()

      const changed = def({ args: ['-c', '128', '-np', '1', '-t', '1'] })
      const h2 = await runtime().driver(changed).start(context().ctx)
      const [fresh, ...more] = await own()
      expect(more).toEqual([])
      expect(fresh!.Id).not.toBe(stale!.Id)
      expect(fresh!.Labels['ai.cortex.plan-hash']).toBe(planHash(containerPlan(changed, { hasGpus: false, hfCache: dir })))
      await h2.stop(5000)
    })

    it("reconcile removes this instance's stale containers and leaves another instance's alone", async () => {
      const labels = (inst: string, model: string, hash: string) => ({
        'ai.cortex.managed': 'true',
        'ai.cortex.instance': inst,
        'ai.cortex.model': model,
        'ai.cortex.replica': '0',
        'ai.cortex.plan-hash': hash,
        'ai.cortex.port': '41000',
      })
      const hash = planHash(containerPlan(def(), { hasGpus: false, hfCache: dir }))
      // Created, never started: enough to be listed, and "not running" makes even a matching plan stale.
      const create = (l: Record<string, string>) =>
        docker.createContainer({ Image: suite.image!, Cmd: ['--version'], Labels: l, HostConfig: { NetworkMode: 'host' } })
      const removedModel = await create(labels(instance, 'removed-model', hash))
      const notRunning = await create(labels(instance, 'tiny-id', hash))
      const other = await create(labels(otherInstance, 'tiny-id', hash))

      expect(await runtime().reconcile([def()])).toEqual([])
      const remaining = (await own()).map((c) => c.Id)
      expect(remaining).not.toContain(removedModel.id)
      expect(remaining).not.toContain(notRunning.id)
      expect((await own(otherInstance)).map((c) => c.Id)).toEqual([other.id])
      await other.remove({ force: true })
    })

    it('a missing image that cannot be pulled is image_missing, naming the image and the offline way', async () => {
      const image = `cortex-test/no-such-image:${instance}`
      const rt = runtime()
      const progress: PullProgress[] = []
      rt.onPullProgress((p) => progress.push(p))
      const failure = await rejection<StartFailure>(rt.driver(def({ image })).start(context().ctx))
      expect(failure.diagnosis.cause).toBe('image_missing')
      expect(failure.diagnosis.message).toContain(image)
      expect(failure.diagnosis.message).toMatch(/docker save .* POST \/admin\/api\/images\/load/)
      // Whoever watches pulls on the events stream learns that it ended, and why.
      expect(progress.at(-1)).toMatchObject({ image, layer: null, status: expect.stringMatching(/^failed: /) })
      expect(await own()).toEqual([])
    })

    it('GPUs on a daemon without the NVIDIA runtime are nvidia_runtime_missing, and no container is left', async () => {
      const failure = await rejection<StartFailure>(
        runtime()
          .driver(def({ gpus: [0] }))
          .start(context().ctx),
      )
      expect(failure.diagnosis.cause).toBe('nvidia_runtime_missing')
      expect(failure.diagnosis.message).toMatch(/NVIDIA Container Toolkit.*gpus: none/)
      expect(await own()).toEqual([])
    })

    it('an image saved to a tar and removed is loaded back from it, and a model starts on it', async () => {
      const rt = runtime()
      const tag = `cortex-test/loaded:${instance}`
      const tar = path.join(dir, 'image.tar')
      await docker.getImage(suite.image!).tag({ repo: 'cortex-test/loaded', tag: instance })
      try {
        await pipeline((await docker.getImage(tag).get()) as Readable, createWriteStream(tar))
        await docker.getImage(tag).remove()
        expect((await rt.list()).some((i) => i.tags.includes(tag))).toBe(false)

        expect(await rt.load(tar)).toEqual([tag])
        expect((await rt.list()).some((i) => i.tags.includes(tag))).toBe(true)
        const driver = rt.driver(def({ image: tag }))
        const h = await driver.start(context().ctx)
        await ready(driver, h)
        await h.stop(5000)
      } finally {
        await docker.getImage(tag).remove()
        rmSync(tar, { force: true })
      }
    })

    it('load refuses a missing file and a file that is not an image, at param path', async () => {
      const rt = runtime()
      const notTar = path.join(dir, 'notes.tar')
      writeFileSync(notTar, 'not an image\n')
      for (const [file, message] of [
        [path.join(dir, 'missing.tar'), /does not exist/],
        [notTar, /Docker could not load/],
      ] as const) {
        const err = await rejection<CortexError>(rt.load(file))
        expect(err).toMatchObject({ code: 'invalid_request', details: { param: 'path' } })
        expect(err.message).toMatch(message)
      }
    })
  },
)
