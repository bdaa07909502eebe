import { randomInt } from 'node:crypto'
import type Database from 'better-sqlite3'
import type { ModelDefinition } from '../contract/index.js'
import type { ModelSpec } from '../config/types.js'
import type { ModelRepo } from './types.js'

interface ModelRow {
  id: string
  name: string
  origin: 'config' | 'api'
  definition: string
}

/** The `models` table. Config secrets (apiKey) are never written: they live in memory, from the last sync. */
export function createModelRepo(db: Database.Database, now: () => number): ModelRepo {
  const selectAll = db.prepare<[], ModelRow>('SELECT id, name, origin, definition FROM models ORDER BY name')
  const upsert = db.prepare<[{ id: string; name: string; definition: string; now: number }]>(`
    INSERT INTO models (id, name, origin, definition, created_at, updated_at)
    VALUES (@id, @name, 'config', @definition, @now, @now)
    ON CONFLICT (id) DO UPDATE SET origin = 'config', definition = excluded.definition, updated_at = excluded.updated_at
    WHERE models.origin <> 'config' OR models.definition <> excluded.definition`)
  const remove = db.prepare<[string]>('DELETE FROM models WHERE id = ?')
  const insertApi = db.prepare<[{ id: string; name: string; definition: string; now: number }]>(`
    INSERT INTO models (id, name, origin, definition, created_at, updated_at)
    VALUES (@id, @name, 'api', @definition, @now, @now)`)
  const updateApi = db.prepare<[{ id: string; name: string; definition: string; now: number }]>(`
    UPDATE models SET name = @name, definition = @definition, updated_at = @now WHERE id = @id AND origin = 'api'`)
  const secrets = new Map<string, string>()

  const list = (): ModelDefinition[] =>
    selectAll.all().map((row) => {
      const apiKey = row.origin === 'config' ? secrets.get(row.name) : undefined
      return {
        // An API-created model keeps its upstream key in its row: nothing else could give it back after a restart.
        ...(JSON.parse(row.definition) as Omit<ModelDefinition, 'id' | 'name' | 'origin'>),
        id: row.id,
        name: row.name,
        origin: row.origin,
        ...(apiKey !== undefined && { apiKey }),
      }
    })

  const sync = db.transaction((specs: ModelSpec[]) => {
    const existing = new Map(selectAll.all().map((row) => [row.name, row]))
    const wanted = new Set(specs.map((s) => s.name))
    for (const row of existing.values()) {
      if (row.origin === 'config' && !wanted.has(row.name)) remove.run(row.id)
    }
    for (const spec of specs) {
      // A config model whose name an API-created model already has takes that row over (same id, origin
      // becomes config): the file is the source of truth for the names it declares.
      const id = existing.get(spec.name)?.id ?? newModelId()
      upsert.run({ id, name: spec.name, definition: JSON.stringify(storedDefinition(spec)), now: now() })
    }
  })

  return {
    syncFromConfig(specs) {
      sync(specs)
      secrets.clear()
      for (const spec of specs) if (spec.apiKey !== undefined) secrets.set(spec.name, spec.apiKey)
      return list()
    },
    list,
    create(spec) {
      const id = newModelId()
      insertApi.run({ id, name: spec.name, definition: JSON.stringify(apiDefinition(spec)), now: now() })
      return { ...spec, id, origin: 'api' }
    },
    replace(id, spec) {
      const changed = updateApi.run({ id, name: spec.name, definition: JSON.stringify(apiDefinition(spec)), now: now() })
      if (changed.changes !== 1) throw new Error(`model ${id} is not an API-created model`)
      return { ...spec, id, origin: 'api' }
    },
    remove(id) {
      remove.run(id)
    },
  }
}

function apiDefinition(spec: ModelSpec): Omit<ModelSpec, 'name' | 'origin'> {
  const { name: _name, origin: _origin, ...rest } = spec
  return rest
}

/** What a row's JSON holds: the spec without the columns of its own and without secrets. */
function storedDefinition(spec: ModelSpec): Omit<ModelSpec, 'name' | 'origin' | 'apiKey'> {
  const { name: _name, origin: _origin, apiKey: _apiKey, ...rest } = spec
  return rest
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'

/** `m_` + 16 random base32 characters (80 bits). */
export function newModelId(): string {
  return `m_${Array.from({ length: 16 }, () => BASE32[randomInt(32)]).join('')}`
}
