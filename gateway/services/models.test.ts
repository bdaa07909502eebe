import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AdminEvent, CortexError, DockerStatus } from '../contract/index.js'
import { modelDefinition } from '../contract/model.test-support.js'
import { rejection } from '../../test/support/rejection.js'
import { containerPlan } from '../engines/backends/container.js'
import { FakeDriver } from '../engines/fakes.test-support.js'
import { createEngineManager, type EngineManager } from '../engines/manager.js'
import { openStore } from '../store/open.js'
import type { Store } from '../store/types.js'
import { createModelService, type ModelService } from './models.js'

const logger = pino({ level: 'silent' })
let dir: string
let store: Store
let engines: EngineManager
let driver: FakeDriver
let service: ModelService
let events: AdminEvent[]
let dockerListener: ((s: DockerStatus) => void) | undefined
let pullListener: ((p: Omit<Extract<AdminEvent, { type: 'image_pull' }>, 'type'>) => void) | undefined

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-service-'))
  store = openStore(dir)
  const { id: _id, ...cfg } = modelDefinition({ name: 'from-config', source: '/m/c.gguf' })
  const models = store.models.syncFromConfig([cfg])
  driver = new FakeDriver()
  engines = createEngineManager({
    models,
    pids: store.pids,
    logger,
    llamaServer: null,
    stopOnExit: true,
    pollMs: 5,
    stopGraceMs: 50,
    drivers: { process: () => driver, docker: () => driver, remote: () => driver },
  })
  service = createModelService({
    repo: store.models,
    engines,
    logger,
    env: { TEAM_KEY: 'sk-team' },
    machineHasGpus: false,
    dryRun: { llamaServer: '/opt/llama-server', containerPlan: (def) => containerPlan(def, { hasGpus: false, hfCache: '/hf' }) },
    docker: {
      status: () => ({ available: true, message: null }),
      onStatus: (fn) => ((dockerListener = fn), () => {}),
      onPullProgress: (fn) => ((pullListener = fn), () => {}),
    },
  })
  events = []
  service.subscribe((e) => events.push(e))
})

afterEach(async () => {
  await engines.close()
  store.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

const llama = { name: 'tiny', engine: 'llamacpp', runtime: 'docker', source: '/models/tiny.gguf', gpus: 'none' } as const
const invalid = async (p: Promise<unknown>) => {
  const err = (await rejection(p)) as CortexError
  expect(err.code).toBe('invalid_request')
  return { param: err.details?.param, message: err.message }
}

describe('model service', () => {
  it('creates a model that survives a restart, announces it, and shows it stopped', async () => {
    const created = await service.create({ ...llama, aliases: ['t'], ttl: '10m' })
    expect(created).toMatchObject({ name: 'tiny', origin: 'api', ttlMs: 600_000, hasApiKey: false, status: { state: 'stopped' } })
    expect(created.id).toMatch(/^m_/)
    expect(events).toContainEqual({ type: 'model_updated', model: created })
    expect(store.models.list().map((m) => m.name)).toEqual(['from-config', 'tiny'])
    expect(service.list().map((m) => m.name)).toEqual(['from-config', 'tiny'])
  })

  it('refuses bad bodies with every problem and the first one as param', async () => {
    expect(await invalid(service.create({ ...llama, source: 'models/tiny.gguf' }))).toEqual({
      param: 'source',
      message: 'invalid model: source: an absolute path of a GGUF file on the machine Cortex runs on',
    })
    expect((await invalid(service.create({ ...llama, replicas: 0 }))).param).toBe('replicas')
    expect((await invalid(service.create({ ...llama, contextSize: 4096 } as never))).message).toMatch(/unknown key "contextSize"/)
    expect(await invalid(service.create({ ...llama, name: 'x', aliases: ['from-config'] }))).toEqual({
      param: 'aliases[0]',
      message:
        'invalid model: aliases[0]: "from-config" is already the name of model "from-config"; names and aliases must be unique',
    })
    expect((await invalid(service.create({ name: 'o', engine: 'openai', runtime: 'docker' }))).message).toMatch(
      /missing required key "image"/,
    )
    expect(store.models.list().map((m) => m.name)).toEqual(['from-config'])
  })

  it('edits and removes API models; config models answer 409 and stay as they are', async () => {
    const cfg = service.list()[0]!
    for (const attempt of [service.update(cfg.id, { replicas: 2 }), service.remove(cfg.id), service.setPinned(cfg.id, true)]) {
      expect(((await rejection(attempt)) as CortexError).code).toBe('model_managed_by_config')
    }
    const { id } = await service.create(llama)
    const renamed = await service.update(id, { name: 'tiny2', args: ['-c', '512'], gpus: null })
    expect(renamed).toMatchObject({ id, name: 'tiny2', args: ['-c', '512'], gpus: 'all' })
    await service.remove(id)
    expect(events.at(-1)).toEqual({ type: 'model_removed', id, name: 'tiny2' })
    expect(((await rejection(Promise.resolve().then(() => service.get(id)))) as CortexError).code).toBe('not_found')
    expect(store.models.list()).toHaveLength(1)
  })

  it('starts (waiting or not), stops, pins in place, and reports start failures with the diagnosis', async () => {
    const { id } = await service.create(llama)
    expect((await service.start(id, { wait: true })).status.state).toBe('running')
    expect(events).toContainEqual(expect.objectContaining({ type: 'model_state', id, name: 'tiny', state: 'running' }))
    const pinned = await service.setPinned(id, true)
    expect(pinned).toMatchObject({ pinned: true, status: { state: 'running', pinned: true } })
    expect(driver.starts).toBe(1)
    expect((await service.stop(id)).status.state).toBe('stopped')

    driver.failWith = { cause: 'image_missing', message: 'image x is not on this machine', exitCode: null, logTail: [] }
    const err = (await rejection(service.start(id, { wait: true }))) as CortexError
    expect(err.code).toBe('model_start_failed')
    expect(err.details?.diagnosis).toMatchObject({ cause: 'image_missing' })
    expect((await service.start(id, { wait: false })).status.state).not.toBe('running')
  })

  it('never shows an upstream key, only whether one is set', async () => {
    const v = await service.create({
      name: 'team',
      engine: 'openai',
      runtime: 'remote',
      baseUrl: 'http://127.0.0.1:9/v1',
      apiKeyEnv: 'TEAM_KEY',
    })
    expect(v.hasApiKey).toBe(true)
    expect(JSON.stringify(service.list())).not.toContain('sk-team')
  })

  it('follows logs, and sends a snapshot with Docker status, Docker changes and pull progress', async () => {
    const { id } = await service.create(llama)
    const lines: string[] = []
    const off = service.followLogs(id, (l) => lines.push(l))
    driver.start = async (ctx) => {
      ctx.log('llama server listening')
      return FakeDriver.prototype.start.call(driver, ctx)
    }
    await service.start(id, { wait: true })
    off()
    expect(lines).toEqual(['llama server listening'])
    expect(service.logs(id)).toEqual(['llama server listening'])
    const snap = service.snapshot()
    expect(snap).toMatchObject({ type: 'snapshot', docker: { available: true } })
    expect(snap.models.map((m) => m.name)).toEqual(['from-config', 'tiny'])
    dockerListener!({ available: false, message: 'Docker is not running' })
    expect(events.at(-1)).toEqual({ type: 'docker', docker: { available: false, message: 'Docker is not running' } })
    const progress = { image: 'vllm/vllm-openai:latest', layer: 'a1b2', status: 'Downloading', current: 5, total: 10 }
    pullListener!(progress)
    expect(events.at(-1)).toEqual({ type: 'image_pull', ...progress })
  })
})

describe('dry-run', () => {
  it('shows the command or container a start would run, and warns about what would stop it, starting nothing', async () => {
    const cfg = service.list()[0]!
    const processRun = await service.dryRun(cfg.id)
    expect(processRun).toMatchObject({
      name: 'from-config',
      plan: { kind: 'process', command: '/opt/llama-server' },
      gpus: [],
      fits: null,
      wouldEvict: [],
    })
    if (processRun.plan?.kind !== 'process') throw new Error('expected a process plan')
    expect(processRun.plan.args).toEqual(expect.arrayContaining(['-m', '/m/c.gguf', '--port', '${PORT}']))
    expect(processRun.warnings).toEqual(['model file /m/c.gguf cannot be read (ENOENT): check the path'])

    const { id } = await service.create(llama)
    const containerRun = await service.dryRun(id)
    expect(containerRun.plan).toMatchObject({
      kind: 'container',
      image: 'ghcr.io/ggml-org/llama.cpp:server',
      mounts: [{ source: '/models/tiny.gguf', target: '/models/tiny.gguf', readOnly: true }],
    })
    expect(driver.starts).toBe(0)
    expect(service.get(id).status.state).toBe('stopped')
  })
})

describe('dry-run of a draft', () => {
  it('plans a definition that is not saved, saving and starting nothing', async () => {
    const before = service.list().length
    const run = await service.dryRunDraft({ ...llama, name: 'draft-tiny', runtime: 'process', args: ['-c', '4096'] })
    expect(run).toMatchObject({ id: 'draft', name: 'draft-tiny', plan: { kind: 'process', command: '/opt/llama-server' } })
    if (run.plan?.kind !== 'process') throw new Error('expected a process plan')
    expect(run.plan.args).toEqual(expect.arrayContaining(['-m', '/models/tiny.gguf', '-c', '4096']))
    expect(run.warnings).toEqual(['model file /models/tiny.gguf cannot be read (ENOENT): check the path'])
    expect(service.list()).toHaveLength(before)
    expect(driver.starts).toBe(0)
    expect(events).toEqual([])
  })

  it.each([
    [{ ...llama, name: 'from-config' }, 'name'],
    [{ ...llama, runtime: 'process', args: ['--port', '1'] }, 'args[0]'],
    [{ ...llama, runtime: 'remote' }, 'source'],
  ])('refuses what create would refuse, naming the field: %j', async (body, param) => {
    const { param: got, message } = await invalid(service.dryRunDraft(body as never))
    expect(got).toBe(param)
    expect(message.length).toBeGreaterThan(10)
  })
})

describe('switching', () => {
  const stateEvents = (id: string) =>
    events.flatMap((e) => (e.type === 'model_state' && e.id === id ? [`${e.state}:${e.reason}`] : []))

  it('starts the target and stops the running models it shares the machine with, keeping pinned ones', async () => {
    const a = await service.create({ ...llama, name: 'a' })
    const b = await service.create({ ...llama, name: 'b' })
    const kept = await service.create({ ...llama, name: 'kept', pinned: true })
    await service.start(a.id, { wait: true })
    await service.start(kept.id, { wait: true })

    const switched = await service.switch(b.id)
    expect(switched).toMatchObject({ stopped: ['a'], keptPinned: ['kept'] })
    await expect.poll(() => service.get(b.id).status.state).toBe('running')
    expect(service.get(a.id).status.state).toBe('stopped')
    expect(service.get(kept.id).status.state).toBe('running')
    // The tray tells a switch from a stop it was asked for.
    expect(stateEvents(a.id)).toContain('stopped:switched')
    expect(stateEvents(b.id)).toContain('running:requested')
  })

  it('with a swap group, stops only the others of the group', async () => {
    const chat = await service.create({ ...llama, name: 'chat', swapGroup: 'g' })
    const other = await service.create({ ...llama, name: 'other' })
    const code = await service.create({ ...llama, name: 'code', swapGroup: 'g' })
    await service.start(chat.id, { wait: true })
    await service.start(other.id, { wait: true })
    expect((await service.switch(code.id)).stopped).toEqual(['chat'])
    await expect.poll(() => service.get(code.id).status.state).toBe('running')
    expect(service.get(other.id).status.state).toBe('running')
  })

  it('runs switches one at a time: two at once leave the second one running and the first stopped', async () => {
    const a = await service.create({ ...llama, name: 'a' })
    const b = await service.create({ ...llama, name: 'b' })
    await service.start(a.id, { wait: true })
    const [first, second] = await Promise.all([service.switch(a.id), service.switch(b.id)])
    expect(first.stopped).toEqual([])
    expect(second.stopped).toEqual(['a'])
    await expect.poll(() => service.get(b.id).status.state).toBe('running')
    expect(service.get(a.id).status.state).toBe('stopped')
  })

  it('an unknown id is not_found and switches nothing', async () => {
    const a = await service.create({ ...llama, name: 'a' })
    await service.start(a.id, { wait: true })
    expect(((await rejection(service.switch('m_nope'))) as CortexError).code).toBe('not_found')
    expect(service.get(a.id).status.state).toBe('running')
  })
})
