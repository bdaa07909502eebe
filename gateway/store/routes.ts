import { randomBytes } from 'node:crypto'
import type Database from 'better-sqlite3'
import type { RouteDefinition, RouteView } from '../contract/routes.js'

/** Routes made on the admin API (migration 6); those of the config file are never stored. */
export interface RouteRepo {
  list(): RouteView[]
  /** Throws SQLite's UNIQUE error when the name is taken. */
  create(route: Omit<RouteDefinition, 'origin'>): RouteView
  replace(id: string, route: Omit<RouteDefinition, 'origin'>): RouteView
  remove(id: string): void
}

interface Row {
  id: string
  definition: string
}

export function createRouteRepo(db: Database.Database, now: () => number): RouteRepo {
  const all = db.prepare<[], Row>('SELECT id, definition FROM routes ORDER BY created_at, id')
  const insert = db.prepare('INSERT INTO routes (id, name, definition, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
  const update = db.prepare('UPDATE routes SET name = ?, definition = ?, updated_at = ? WHERE id = ?')
  const del = db.prepare('DELETE FROM routes WHERE id = ?')
  const view = (id: string, route: Omit<RouteDefinition, 'origin'>): RouteView => ({ ...route, id, origin: 'api' })
  return {
    list: () => all.all().map((r) => view(r.id, JSON.parse(r.definition) as Omit<RouteDefinition, 'origin'>)),
    create(route) {
      const id = `route_${randomBytes(6).toString('hex')}`
      insert.run(id, route.name, JSON.stringify(route), now(), now())
      return view(id, route)
    },
    replace(id, route) {
      if (update.run(route.name, JSON.stringify(route), now(), id).changes === 0) throw new Error(`no stored route ${id}`)
      return view(id, route)
    },
    remove: (id) => void del.run(id),
  }
}
