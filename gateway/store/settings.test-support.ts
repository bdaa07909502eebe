import type { SettingsRepo } from './types.js'

/** The settings table in a Map, for suites that need no database. */
export function memorySettingsRepo(): SettingsRepo {
  const values = new Map<string, string>()
  return {
    get: (key) => values.get(key) ?? null,
    set: (key, value) => void values.set(key, value),
    delete: (key) => void values.delete(key),
  }
}
