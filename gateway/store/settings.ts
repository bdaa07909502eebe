import type Database from 'better-sqlite3'
import type { SettingsRepo } from './types.js'

/** The `settings` table: one text value per key (the instance id, the admin API's settings). */
export function createSettingsRepo(db: Database.Database): SettingsRepo {
  const select = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?')
  const upsert = db.prepare<[string, string]>(
    'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  )
  const remove = db.prepare<[string]>('DELETE FROM settings WHERE key = ?')
  return {
    get: (key) => select.get(key)?.value ?? null,
    set: (key, value) => void upsert.run(key, value),
    delete: (key) => void remove.run(key),
  }
}
