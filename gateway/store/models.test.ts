import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ModelSpec } from '../config/types.js'
import { modelDefinition } from '../contract/model.test-support.js'
import { migrate } from './migrations.js'
import { createModelRepo } from './models.js'

let dir: string
let db: Database.Database
let clock: number
const now = () => clock
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-models-'))
  db = new Database(path.join(dir, 'cortex.db'))
  migrate(db, { dataDir: dir, now })
  clock = 1000
})
afterEach(() => {
  db.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

function spec(name: string, extra: Partial<ModelSpec> = {}): ModelSpec {
  const { id: _id, ...rest } = modelDefinition({
    name,
    source: `/models/${name}.gguf`,
    queue: { size: 32, timeoutMs: 60_000 },
    startTimeoutMs: 300_000,
    ...extra,
  })
  return rest
}

function insertApiModel(name: string): string {
  const id = `m_api${name}`
  db.prepare("INSERT INTO models (id, name, origin, definition, created_at, updated_at) VALUES (?, ?, 'api', ?, 0, 0)").run(
    id,
    name,
    JSON.stringify({ ...spec(name), name: undefined, origin: undefined }),
  )
  return id
}

const idsByName = (models: Array<{ id: string; name: string }>) => Object.fromEntries(models.map((m) => [m.name, m.id]))

describe('ModelRepo.syncFromConfig', () => {
  it('assigns opaque ids and returns the definitions with them', () => {
    const models = createModelRepo(db, now).syncFromConfig([spec('a'), spec('b', { aliases: ['bee'], ttlMs: 5000 })])
    expect(models.map((m) => m.name)).toEqual(['a', 'b'])
    for (const m of models) expect(m.id).toMatch(/^m_[a-z2-7]{16}$/)
    expect(models[0]!.id).not.toBe(models[1]!.id)
    expect(models[1]).toEqual({ ...spec('b', { aliases: ['bee'], ttlMs: 5000 }), id: models[1]!.id })
  })

  it('keeps ids stable per name across syncs and restarts', () => {
    const first = idsByName(createModelRepo(db, now).syncFromConfig([spec('a'), spec('b')]))
    const again = idsByName(createModelRepo(db, now).syncFromConfig([spec('b', { replicas: 2 }), spec('a'), spec('c')]))
    expect(again.a).toBe(first.a)
    expect(again.b).toBe(first.b)
    expect(again.c).toMatch(/^m_/)
  })

  it('updates a changed definition, and touches updated_at only then', () => {
    const repo = createModelRepo(db, now)
    repo.syncFromConfig([spec('a')])
    clock = 2000
    repo.syncFromConfig([spec('a')])
    const row = () => db.prepare('SELECT created_at, updated_at FROM models').get()
    expect(row()).toEqual({ created_at: 1000, updated_at: 1000 })
    clock = 3000
    expect(repo.syncFromConfig([spec('a', { pinned: true })])[0]!.pinned).toBe(true)
    expect(row()).toEqual({ created_at: 1000, updated_at: 3000 })
  })

  it('removes config models no longer in the file; their usage rows stay', () => {
    const repo = createModelRepo(db, now)
    repo.syncFromConfig([spec('a'), spec('gone')])
    db.prepare(
      "INSERT INTO usage (ts, request_id, model, endpoint, status, stream, total_ms, bytes_in, bytes_out) VALUES (1, 'r', 'gone', '/v1/chat/completions', 200, 0, 1, 1, 1)",
    ).run()
    expect(repo.syncFromConfig([spec('a')]).map((m) => m.name)).toEqual(['a'])
    expect(repo.list().map((m) => m.name)).toEqual(['a'])
    expect(db.prepare('SELECT model FROM usage').all()).toEqual([{ model: 'gone' }])
  })

  it('keeps models created on the API', () => {
    const apiId = insertApiModel('mine')
    const models = createModelRepo(db, now).syncFromConfig([spec('a')])
    expect(models.find((m) => m.name === 'mine')).toMatchObject({ id: apiId, origin: 'api', engine: 'llamacpp' })
    expect(
      createModelRepo(db, now)
        .syncFromConfig([])
        .map((m) => m.name),
    ).toEqual(['mine'])
  })

  it('lets a config model take over an API model of the same name, keeping its id', () => {
    const apiId = insertApiModel('shared')
    const models = createModelRepo(db, now).syncFromConfig([spec('shared', { replicas: 3 })])
    expect(models).toEqual([expect.objectContaining({ id: apiId, name: 'shared', origin: 'config', replicas: 3 })])
  })

  it('never stores apiKey; the running repo hands it back from the last sync', () => {
    const remote = spec('team', {
      engine: 'openai',
      runtime: 'remote',
      source: undefined,
      baseUrls: ['http://x/v1'],
      apiKey: 'sk-secret-123',
    })
    const repo = createModelRepo(db, now)
    expect(repo.syncFromConfig([remote])[0]!.apiKey).toBe('sk-secret-123')
    expect(repo.list()[0]!.apiKey).toBe('sk-secret-123')

    const stored = db.prepare('SELECT definition FROM models').get() as { definition: string }
    expect(stored.definition).not.toContain('sk-secret')
    expect(JSON.parse(stored.definition)).not.toHaveProperty('apiKey')
    db.pragma('wal_checkpoint(TRUNCATE)')
    expect(fs.readFileSync(path.join(dir, 'cortex.db')).includes('sk-secret')).toBe(false)

    expect(createModelRepo(db, now).list()[0]).not.toHaveProperty('apiKey')
  })
})

describe('ModelRepo API models', () => {
  it('creates, replaces and removes models of origin api, which a config sync keeps', () => {
    const repo = createModelRepo(db, now)
    repo.syncFromConfig([spec('cfg')])
    const created = repo.create({ ...spec('api1'), origin: 'api' })
    expect(created).toEqual({ ...spec('api1'), origin: 'api', id: created.id })
    expect(repo.syncFromConfig([spec('cfg')]).map((m) => [m.name, m.origin])).toEqual([
      ['api1', 'api'],
      ['cfg', 'config'],
    ])

    const renamed = repo.replace(created.id, { ...spec('api2', { replicas: 3 }), origin: 'api' })
    expect(
      createModelRepo(db, now)
        .list()
        .find((m) => m.id === created.id),
    ).toEqual(renamed)
    expect(renamed).toMatchObject({ name: 'api2', replicas: 3 })

    repo.remove(created.id)
    expect(repo.list().map((m) => m.name)).toEqual(['cfg'])
  })

  it('refuses a taken name and never replaces a config model', () => {
    const repo = createModelRepo(db, now)
    const [cfg] = repo.syncFromConfig([spec('cfg')])
    expect(() => repo.create({ ...spec('cfg'), origin: 'api' })).toThrow(/UNIQUE/)
    expect(() => repo.replace(cfg!.id, { ...spec('cfg', { replicas: 2 }), origin: 'api' })).toThrow(/not an API-created model/)
    expect(repo.list()).toEqual([cfg])
  })
})
