import { mkdir, rm, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'

/** Where the XDG autostart entry lives: $XDG_CONFIG_HOME/autostart, else ~/.config/autostart. */
export function autostartPath(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  const config = env.XDG_CONFIG_HOME?.trim() || join(home, '.config')
  return join(config, 'autostart', 'cortex.desktop')
}

/** The entry's text. For an AppImage pass $APPIMAGE: the mounted binary vanishes when the app exits. */
export function autostartEntry(executable: string, hidden: boolean): string {
  const quoted = /[\s"'\\$`]/.test(executable) ? `"${executable.replace(/(["\\$`])/g, '\\$1')}"` : executable
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Cortex',
    'Comment=Local model gateway',
    `Exec=${quoted}${hidden ? ' --hidden' : ''}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n')
}

/** Writes or removes the entry so it matches the setting. */
export async function setLinuxAutostart(
  enabled: boolean,
  executable: string,
  hidden: boolean,
  path = autostartPath(),
): Promise<void> {
  if (!enabled) {
    await rm(path, { force: true })
    return
  }
  await mkdir(join(path, '..'), { recursive: true })
  await writeFile(path, autostartEntry(executable, hidden))
}
