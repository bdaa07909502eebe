import path from 'node:path'

/**
 * The default data directory: `$XDG_DATA_HOME/cortex` or `~/.local/share/cortex` (Linux and other Unixes),
 * `~/Library/Application Support/Cortex` (macOS), `%APPDATA%\Cortex` (Windows). Pure: the same inputs
 * give the same path on any host, so each platform is testable everywhere.
 */
export function defaultDataDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, homedir: string): string {
  if (platform === 'win32') {
    const appData = env.APPDATA || path.win32.join(homedir, 'AppData', 'Roaming')
    return path.win32.join(appData, 'Cortex')
  }
  if (platform === 'darwin') return path.posix.join(homedir, 'Library', 'Application Support', 'Cortex')
  // The XDG spec says a relative $XDG_DATA_HOME is invalid and must be ignored.
  const xdg = env.XDG_DATA_HOME
  const dataHome = xdg && path.posix.isAbsolute(xdg) ? xdg : path.posix.join(homedir, '.local', 'share')
  return path.posix.join(dataHome, 'cortex')
}
