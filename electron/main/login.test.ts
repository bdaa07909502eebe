import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { applyStartAtLogin, startWindow, type LoginItems } from './login.js'
import { DEFAULT_SETTINGS } from './settings.js'

let dir: string
beforeEach(() => void (dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-login-'))))
afterEach(() => rmSync(dir, { recursive: true, force: true }))

function items(): LoginItems & { set: unknown[] } {
  const set: unknown[] = []
  return { set, setLoginItemSettings: (s) => void set.push(s) }
}

describe('applyStartAtLogin', () => {
  it('on Linux writes the XDG entry (with --hidden when starting hidden) and removes it when turned off', async () => {
    const xdgPath = path.join(dir, 'autostart', 'cortex.desktop')
    const api = items()
    const target = { platform: 'linux' as const, executable: '/opt/Cortex/cortex', items: api, xdgPath }
    await applyStartAtLogin({ ...DEFAULT_SETTINGS, startAtLogin: true, startHidden: true }, target)
    expect(readFileSync(xdgPath, 'utf8')).toContain('Exec=/opt/Cortex/cortex --hidden\n')
    await applyStartAtLogin(DEFAULT_SETTINGS, target)
    expect(existsSync(xdgPath)).toBe(false)
    expect(api.set).toEqual([])
  })

  it.each(['darwin', 'win32'] as const)('on %s uses the login-item API', async (platform) => {
    const api = items()
    const target = { platform, executable: 'Cortex.exe', items: api, xdgPath: path.join(dir, 'never') }
    await applyStartAtLogin({ ...DEFAULT_SETTINGS, startAtLogin: true, startHidden: true }, target)
    await applyStartAtLogin(DEFAULT_SETTINGS, target)
    expect(api.set).toEqual([
      { openAtLogin: true, args: ['--hidden'] },
      { openAtLogin: false, args: [] },
    ])
    expect(existsSync(path.join(dir, 'never'))).toBe(false)
  })
})

describe('startWindow', () => {
  const hidden = { ...DEFAULT_SETTINGS, startHidden: true }
  it('hides at login with start hidden on: by the --hidden flag or macOS opening it at login', () => {
    expect(startWindow(hidden, ['cortex', '--hidden'], false, true)).toBe('hide')
    expect(startWindow(hidden, ['Cortex'], true, true)).toBe('hide')
  })
  it('shows on a launch by hand, or when start hidden is off', () => {
    expect(startWindow(hidden, ['cortex'], false, true)).toBe('show')
    expect(startWindow(DEFAULT_SETTINGS, ['cortex', '--hidden'], true, true)).toBe('show')
  })
  it('minimizes instead of hiding where there is no tray to find it in', () => {
    expect(startWindow(hidden, ['cortex', '--hidden'], false, false)).toBe('minimize')
  })
})
