/**
 * What the console window may do, decided here and applied by window.ts (issue 13): it shows the console and only
 * the console; links elsewhere open in the browser; nothing else loads.
 */

/** Whether `url` is a page of the console, served by the gateway at `consoleOrigin` (e.g. http://127.0.0.1:31313). */
export function isConsoleUrl(url: string | undefined, consoleOrigin: string): boolean {
  if (url === undefined) return false
  try {
    return new URL(url).origin === new URL(consoleOrigin).origin
  } catch {
    return false
  }
}

/** `allow`: a console page. `external`: a web or mail link, handed to the system browser. `deny`: anything else
 *  (file:, javascript:, data:, custom schemes) — never loaded and never handed on. */
export type NavigationDecision = 'allow' | 'external' | 'deny'

export function navigationDecision(url: string, consoleOrigin: string): NavigationDecision {
  if (isConsoleUrl(url, consoleOrigin)) return 'allow'
  let protocol: string
  try {
    protocol = new URL(url).protocol
  } catch {
    return 'deny'
  }
  return protocol === 'https:' || protocol === 'http:' || protocol === 'mailto:' ? 'external' : 'deny'
}

/**
 * The one permission the console may have: writing to the clipboard (its Copy buttons, for keys and snippets), from
 * its own pages. Everything else — camera, microphone, notifications, geolocation, reading the clipboard — is refused.
 */
export function permissionAllowed(permission: string, requestingUrl: string | undefined, consoleOrigin: string): boolean {
  return permission === 'clipboard-sanitized-write' && isConsoleUrl(requestingUrl, consoleOrigin)
}

/**
 * What closing the window does: hide to the tray where the desktop shows one; minimize where it does not (stock
 * GNOME has no tray, so a hidden window could not be found again); close only while the app quits.
 */
export function closeAction(hasTrayHost: boolean, quitting: boolean): 'close' | 'hide' | 'minimize' {
  if (quitting) return 'close'
  return hasTrayHost ? 'hide' : 'minimize'
}

/**
 * Whether the desktop shows tray icons. macOS and Windows always do. On Linux, GNOME shows none unless an
 * AppIndicator extension is installed, which Ubuntu's and Pop!_OS's GNOME ship (XDG_CURRENT_DESKTOP says `ubuntu:GNOME`,
 * `pop:GNOME`); KDE, Cinnamon, XFCE, MATE and the rest have one.
 */
export function hasTrayHost(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): boolean {
  if (platform !== 'linux') return true
  const desktops = (env.XDG_CURRENT_DESKTOP ?? '').toLowerCase().split(':')
  if (!desktops.includes('gnome')) return true
  return desktops.includes('ubuntu') || desktops.includes('pop')
}
