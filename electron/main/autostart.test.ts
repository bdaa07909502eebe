import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { autostartEntry, autostartPath, setLinuxAutostart } from './autostart.js'

describe('XDG autostart entry', () => {
  let dir = ''
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('lives under XDG_CONFIG_HOME, else ~/.config', () => {
    expect(autostartPath({ XDG_CONFIG_HOME: '/x/cfg' }, '/home/a')).toBe('/x/cfg/autostart/cortex.desktop')
    expect(autostartPath({}, '/home/a')).toBe('/home/a/.config/autostart/cortex.desktop')
  })

  it('quotes an executable path with spaces and adds --hidden when starting hidden', () => {
    const text = autostartEntry('/opt/My Apps/cortex', true)
    expect(text).toContain('Exec="/opt/My Apps/cortex" --hidden\n')
    expect(text.startsWith('[Desktop Entry]\nType=Application\n')).toBe(true)
    expect(autostartEntry('/usr/bin/cortex', false)).toContain('Exec=/usr/bin/cortex\n')
  })

  it('is written when enabled and removed when disabled', async () => {
    dir = await mkdtemp(join(tmpdir(), 'autostart-'))
    const path = join(dir, 'autostart', 'cortex.desktop')
    await setLinuxAutostart(true, '/usr/bin/cortex', false, path)
    expect(await readFile(path, 'utf8')).toContain('Exec=/usr/bin/cortex')
    await setLinuxAutostart(false, '/usr/bin/cortex', false, path)
    await expect(stat(path)).rejects.toThrow(/ENOENT/)
    await setLinuxAutostart(false, '/usr/bin/cortex', false, path)
  })
})
