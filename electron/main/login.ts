import type { DesktopSettings } from '../../gateway/contract/ipc.js'
import { setLinuxAutostart } from './autostart.js'

/** The flag the login entry passes so a start at login can stay in the tray. */
export const HIDDEN_FLAG = '--hidden'

/** Electron's login-item API (macOS and Windows), as much of it as the app uses. */
export interface LoginItems {
  setLoginItemSettings(settings: { openAtLogin: boolean; args?: string[] }): void
}

export interface LoginTarget {
  platform: NodeJS.Platform
  /** The app's executable; in an AppImage, $APPIMAGE (the mounted one vanishes when the app exits). */
  executable: string
  items: LoginItems
  /** Where the XDG entry goes (default ~/.config/autostart/cortex.desktop). */
  xdgPath?: string
}

/** Makes the system's start-at-login match the settings: the login-item API on macOS and Windows, XDG on Linux. */
export async function applyStartAtLogin(settings: DesktopSettings, target: LoginTarget): Promise<void> {
  const { startAtLogin, startHidden } = settings
  if (target.platform === 'linux') {
    await setLinuxAutostart(startAtLogin, target.executable, startHidden, target.xdgPath)
    return
  }
  // macOS ignores args; there the app asks wasOpenedAtLogin instead (see startWindow).
  target.items.setLoginItemSettings({ openAtLogin: startAtLogin, args: startHidden ? [HIDDEN_FLAG] : [] })
}

/**
 * How the window starts: hidden when launched at login with "start hidden" on (the login entry's --hidden, or macOS
 * saying it opened the app at login), shown on any launch by hand. Without a tray host a hidden window could not be
 * found again, so it starts minimized instead.
 */
export function startWindow(
  settings: DesktopSettings,
  argv: readonly string[],
  openedAtLogin: boolean,
  trayHost: boolean,
): 'show' | 'hide' | 'minimize' {
  const atLogin = argv.includes(HIDDEN_FLAG) || openedAtLogin
  if (!atLogin || !settings.startHidden) return 'show'
  return trayHost ? 'hide' : 'minimize'
}
