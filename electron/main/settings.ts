import { randomBytes } from 'node:crypto'
import { open, readFile, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import type { DesktopSettings } from '../../gateway/contract/ipc.js'

/** The desktop app's settings file, in Electron's user-data folder (the core's settings live in its data directory). */
export const SETTINGS_FILE = 'desktop-settings.json'

export const DEFAULT_SETTINGS: Readonly<DesktopSettings> = Object.freeze({
  port: 31313,
  startAtLogin: false,
  startHidden: false,
  quit: 'stop-engines',
})

export class SettingsError extends Error {
  override readonly name = 'SettingsError'
}

/** Checks a value read from the file or sent over IPC; every problem in one message, each naming its key. */
export function validateSettings(value: unknown): DesktopSettings {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new SettingsError('settings must be a JSON object')
  const v = value as Record<string, unknown>
  const problems: string[] = []
  const known = new Set(Object.keys(DEFAULT_SETTINGS))
  for (const key of Object.keys(v)) if (!known.has(key)) problems.push(`${key}: unknown setting`)
  const port = v.port ?? DEFAULT_SETTINGS.port
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
    problems.push(`port: expected a whole number from 1 to 65535, got ${JSON.stringify(port)}`)
  for (const key of ['startAtLogin', 'startHidden'] as const) {
    if (v[key] !== undefined && typeof v[key] !== 'boolean')
      problems.push(`${key}: expected true or false, got ${JSON.stringify(v[key])}`)
  }
  const quit = v.quit ?? DEFAULT_SETTINGS.quit
  if (quit !== 'stop-engines' && quit !== 'leave-running')
    problems.push(`quit: expected "stop-engines" or "leave-running", got ${JSON.stringify(quit)}`)
  if (problems.length > 0) throw new SettingsError(problems.join('; '))
  return { ...DEFAULT_SETTINGS, ...(v as Partial<DesktopSettings>) }
}

export interface LoadedSettings {
  settings: DesktopSettings
  /** Why the file was not used (the defaults apply meanwhile), or null. */
  problem: string | null
}

/** Reads the file; no file is the defaults, a broken one is the defaults with the reason (the file is left as it is). */
export async function loadSettings(dir: string): Promise<LoadedSettings> {
  const file = path.join(dir, SETTINGS_FILE)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { settings: { ...DEFAULT_SETTINGS }, problem: null }
    return { settings: { ...DEFAULT_SETTINGS }, problem: `${file} could not be read: ${(err as Error).message}` }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    return { settings: { ...DEFAULT_SETTINGS }, problem: `${file} is not JSON (${(err as Error).message}); using the defaults` }
  }
  try {
    return { settings: validateSettings(parsed), problem: null }
  } catch (err) {
    return { settings: { ...DEFAULT_SETTINGS }, problem: `${file}: ${(err as Error).message}; using the defaults` }
  }
}

/**
 * Validates, then writes a temporary file, flushes it and renames it over the old one: a crash or a full disk
 * mid-write leaves the previous file whole. A file that was broken is kept beside as `.invalid` before it is replaced.
 */
export async function saveSettings(dir: string, value: unknown): Promise<DesktopSettings> {
  const settings = validateSettings(value)
  const file = path.join(dir, SETTINGS_FILE)
  const { problem } = await loadSettings(dir)
  if (problem !== null) await rename(file, `${file}.invalid`).catch(ignoreMissing)
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`
  const handle = await open(tmp, 'w', 0o600)
  try {
    await handle.writeFile(`${JSON.stringify(settings, null, 2)}\n`)
    await handle.sync()
  } catch (err) {
    await handle.close()
    await rm(tmp, { force: true })
    throw err
  }
  await handle.close()
  await rename(tmp, file)
  return settings
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err
}
