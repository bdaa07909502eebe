import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_SETTINGS, SETTINGS_FILE, SettingsError, loadSettings, saveSettings, validateSettings } from './settings.js'

let dir: string
beforeEach(() => void (dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-settings-'))))
afterEach(() => rmSync(dir, { recursive: true, force: true }))
const file = () => path.join(dir, SETTINGS_FILE)

describe('desktop settings', () => {
  it('are the defaults when there is no file: port 31313, not at login, shown, engines stopped on quit', async () => {
    expect(await loadSettings(dir)).toEqual({ settings: DEFAULT_SETTINGS, problem: null })
    expect(DEFAULT_SETTINGS).toEqual({ port: 31313, startAtLogin: false, startHidden: false, quit: 'stop-engines' })
  })

  it('fill missing keys from the defaults and keep what the file says', async () => {
    writeFileSync(file(), JSON.stringify({ port: 4000, startHidden: true }))
    expect((await loadSettings(dir)).settings).toEqual({ ...DEFAULT_SETTINGS, port: 4000, startHidden: true })
  })

  it('name every wrong key in one message', () => {
    expect(() => validateSettings({ port: 70000, startAtLogin: 'yes', quit: 'later', colour: 'red' })).toThrow(
      new SettingsError(
        'colour: unknown setting; port: expected a whole number from 1 to 65535, got 70000; ' +
          'startAtLogin: expected true or false, got "yes"; quit: expected "stop-engines" or "leave-running", got "later"',
      ),
    )
    expect(() => validateSettings([])).toThrow('settings must be a JSON object')
  })

  it('a broken file gives the defaults with the reason and stays on disk until a good save keeps it aside', async () => {
    writeFileSync(file(), '{"port": 40')
    const loaded = await loadSettings(dir)
    expect(loaded.settings).toEqual(DEFAULT_SETTINGS)
    expect(loaded.problem).toMatch(/desktop-settings\.json is not JSON .*using the defaults/)
    expect(readFileSync(file(), 'utf8')).toBe('{"port": 40')

    await saveSettings(dir, { ...DEFAULT_SETTINGS, port: 4001 })
    expect(readFileSync(`${file()}.invalid`, 'utf8')).toBe('{"port": 40')
    expect(await loadSettings(dir)).toEqual({ settings: { ...DEFAULT_SETTINGS, port: 4001 }, problem: null })
  })

  it('a refused save leaves the good file as it was and no temporary file behind', async () => {
    await saveSettings(dir, { ...DEFAULT_SETTINGS, startAtLogin: true })
    const before = readFileSync(file(), 'utf8')
    await expect(saveSettings(dir, { ...DEFAULT_SETTINGS, port: 0 })).rejects.toThrow(/^port: expected a whole number/)
    expect(readFileSync(file(), 'utf8')).toBe(before)
    expect(readdirSync(dir)).toEqual([SETTINGS_FILE])
  })
})
