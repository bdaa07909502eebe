import { BrowserWindow, nativeTheme, shell } from 'electron'
import path from 'node:path'
import { closeAction, navigationDecision, permissionAllowed } from './window-policy.js'

export interface ConsoleWindow {
  window: BrowserWindow
  /** Loads the console signed in: a fresh one-time sign-in code each time (a code works once, for 5 minutes). */
  signIn(): Promise<void>
  show(modelId?: string): void
}

export interface ConsoleWindowOptions {
  /** The gateway's root: the only origin the window may show. */
  origin: string
  /** A one-time sign-in address `<origin>/?code=…` (AdminClient.signInCode). */
  signInUrl(): Promise<string>
  preload: string
  icon: string
  hasTrayHost: boolean
  quitting(): boolean
  /** Says which mode the app is in, after the page's own title: "embedded gateway", "attached to cortex serve …". */
  modeLabel: string
}

/** The console window: sandboxed, isolated, no Node; the console only, other links in the browser; close hides. */
export function createConsoleWindow(options: ConsoleWindowOptions): ConsoleWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 820,
    show: false,
    title: `Cortex — ${options.modeLabel}`,
    icon: options.icon,
    // Follows the OS's light or dark mode until the page paints (the console's CSS follows prefers-color-scheme).
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#15181e' : '#ffffff',
    webPreferences: {
      preload: options.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  })
  const contents = window.webContents
  const { origin } = options
  const refuseOrOpen = (url: string) => {
    if (navigationDecision(url, origin) === 'external') void shell.openExternal(url)
  }
  contents.on('will-navigate', (event, url) => {
    if (navigationDecision(url, origin) === 'allow') return
    event.preventDefault()
    refuseOrOpen(url)
  })
  contents.on('will-redirect', (event, url) => {
    if (navigationDecision(url, origin) !== 'allow') event.preventDefault()
  })
  // New windows never open in the app: web links go to the browser, anything else nowhere.
  contents.setWindowOpenHandler(({ url }) => {
    refuseOrOpen(url)
    return { action: 'deny' }
  })
  contents.on('page-title-updated', (event, title) => {
    event.preventDefault()
    window.setTitle(`${title} — ${options.modeLabel}`)
  })
  contents.on('will-attach-webview', (event) => event.preventDefault())
  // Clipboard writes from the console's Copy buttons, nothing else (window-policy.ts).
  contents.session.setPermissionRequestHandler((_contents, permission, callback, details) =>
    callback(permissionAllowed(permission, details.requestingUrl, origin)),
  )
  contents.session.setPermissionCheckHandler((_contents, permission, requestingOrigin) =>
    permissionAllowed(permission, requestingOrigin, origin),
  )
  window.on('close', (event) => {
    const action = closeAction(options.hasTrayHost, options.quitting())
    if (action === 'close') return
    event.preventDefault()
    if (action === 'hide') window.hide()
    else window.minimize()
  })

  const signIn = async () => {
    await window.loadURL(await options.signInUrl())
  }
  return {
    window,
    signIn,
    show: (modelId) => {
      if (modelId !== undefined) void window.loadURL(`${origin}/models/${encodeURIComponent(modelId)}`)
      if (window.isMinimized()) window.restore()
      window.show()
      window.focus()
    },
  }
}

export const preloadPath = (here: string) => path.join(here, '../preload/index.cjs')
