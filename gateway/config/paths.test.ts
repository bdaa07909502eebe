import { describe, expect, it } from 'vitest'
import { defaultDataDir } from './paths.js'

describe('defaultDataDir', () => {
  it('uses $XDG_DATA_HOME on Linux', () => {
    expect(defaultDataDir('linux', { XDG_DATA_HOME: '/data/xdg' }, '/home/ada')).toBe('/data/xdg/cortex')
  })

  it('falls back to ~/.local/share on Linux when XDG_DATA_HOME is unset, empty or relative', () => {
    expect(defaultDataDir('linux', {}, '/home/ada')).toBe('/home/ada/.local/share/cortex')
    expect(defaultDataDir('linux', { XDG_DATA_HOME: '' }, '/home/ada')).toBe('/home/ada/.local/share/cortex')
    expect(defaultDataDir('linux', { XDG_DATA_HOME: 'rel/dir' }, '/home/ada')).toBe('/home/ada/.local/share/cortex')
  })

  it('uses ~/Library/Application Support on macOS, ignoring XDG', () => {
    expect(defaultDataDir('darwin', { XDG_DATA_HOME: '/data/xdg' }, '/Users/ada')).toBe(
      '/Users/ada/Library/Application Support/Cortex',
    )
  })

  it('uses %APPDATA% on Windows', () => {
    expect(defaultDataDir('win32', { APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' }, 'C:\\Users\\ada')).toBe(
      'C:\\Users\\ada\\AppData\\Roaming\\Cortex',
    )
  })

  it('derives %APPDATA% from the home directory on Windows when it is unset', () => {
    expect(defaultDataDir('win32', {}, 'C:\\Users\\ada')).toBe('C:\\Users\\ada\\AppData\\Roaming\\Cortex')
  })
})
