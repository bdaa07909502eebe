import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { migrate } from './migrations.js'
import { createSettingsRepo } from './settings.js'

let dir: string
let db: Database.Database
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-settings-'))
  db = new Database(path.join(dir, 'cortex.db'))
  migrate(db, { dataDir: dir, now: Date.now })
})
afterEach(() => {
  db.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('SettingsRepo', () => {
  it('answers null for a key never set', () => {
    expect(createSettingsRepo(db).get('hf_token')).toBeNull()
  })

  it('keeps the last value set for a key, across repos on the same database', () => {
    const settings = createSettingsRepo(db)
    settings.set('hf_token', 'first')
    settings.set('hf_token', 'second')
    settings.set('hf_cache', '/srv/hf')
    expect(createSettingsRepo(db).get('hf_token')).toBe('second')
    expect(createSettingsRepo(db).get('hf_cache')).toBe('/srv/hf')
  })

  it('forgets a deleted key and leaves the others', () => {
    const settings = createSettingsRepo(db)
    settings.set('hf_token', 'secret')
    settings.set('hf_cache', '/srv/hf')
    settings.delete('hf_token')
    settings.delete('never-set')
    expect(settings.get('hf_token')).toBeNull()
    expect(settings.get('hf_cache')).toBe('/srv/hf')
  })
})
