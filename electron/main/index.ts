// The desktop app's composition root: the one place that wires Electron to the modules beside it, which hold the
// logic and are tested in plain Node (ARCHITECTURE.md: electron/main imports the core only through gateway/index.ts).
import { BrowserWindow, Notification, app, clipboard, dialog, ipcMain } from 'electron'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { IPC_CHANNELS, type DesktopSettings } from '../../gateway/contract/ipc.js'
import { loadConfig, type CortexConfig } from '../../gateway/index.js'
import { ConnectCancelled, connect, gatewayDeps, type Connection, type PortDialog } from './connect.js'
import { startController, type DesktopController } from './desktop.js'
import { createHandlers, dispatch } from './ipc.js'
import { applyStartAtLogin, startWindow } from './login.js'
import { createQuitGate, quitSequence } from './quit.js'
import { loadSettings, saveSettings } from './settings.js'
import { createDesktopTray } from './tray.js'
import { electronUpdater, updatesUnavailable } from './updater.js'
import { createUpdateFlow } from './updates.js'
import { createConsoleWindow, preloadPath, type ConsoleWindow } from './window.js'
import { hasTrayHost, isConsoleUrl } from './window-policy.js'

const here = path.dirname(fileURLToPath(import.meta.url))
/** Tray images and the icon: `resources/` beside the code in a checkout, extra resources in a package. */
const resources = app.isPackaged ? process.resourcesPath : path.resolve(here, '../../../resources')

/** What the `_electron` suite reads from the main process (native menus cannot be clicked). */
declare global {
  var cortexDesktop: { mode: string; url: string; controller: DesktopController } | undefined
}

/** Brings the window forward; set once it exists (a second launch during start-up has nothing to show yet). */
let showWindow: () => void = () => {}
/** Closes the gateway connection when start-up fails after it was made (set once it is). */
let closeOnFailure: (() => Promise<void>) | null = null

if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  // Registered before the first await: the second instance quits at once, and its event must not go unheard.
  app.on('second-instance', () => showWindow())
  app.on('activate', () => showWindow())
  await app.whenReady()
  await run().catch(async (err: unknown) => {
    if (!(err instanceof ConnectCancelled)) dialog.showErrorBox('Cortex could not start', (err as Error).message)
    // app.exit skips before-quit: an embedded core that came up is closed here, so its process engines do not
    // outlive the app (within a deadline, so a hung close cannot keep a failed app alive).
    if (closeOnFailure !== null) {
      const deadline = new Promise((resolve) => setTimeout(resolve, 15_000).unref())
      await Promise.race([closeOnFailure().catch((e: unknown) => console.error(`cortex: ${(e as Error).message}`)), deadline])
    }
    app.exit(1)
  })
}

async function run(): Promise<void> {
  const userData = app.getPath('userData')
  const loaded = await loadSettings(userData)
  let settings: DesktopSettings = loaded.settings
  if (loaded.problem !== null) dialog.showErrorBox('Cortex settings', loaded.problem)
  const env = process.env
  const config = loadConfig({ flags: {}, env })
  // Quit decides about the engines from the setting read then (quit.ts), so the core itself never stops them.
  const embedded: CortexConfig = { ...config, engines: { ...config.engines, stopOnExit: false } }
  const port = env.CORTEX_PORT ? config.server.port : settings.port
  const connection = await connect(port, gatewayDeps(embedded, env, portDialog))
  closeOnFailure = () => connection.close()
  const chosenPort = Number(new URL(connection.url).port)
  if (connection.mode === 'embed' && chosenPort !== settings.port && !env.CORTEX_PORT)
    settings = await saveSettings(userData, { ...settings, port: chosenPort })

  const trayHost = hasTrayHost(process.platform, env)
  const modeLabel =
    connection.mode === 'embed' ? 'embedded gateway' : `attached to cortex serve on ${connection.url.replace(/^http:\/\//, '')}`
  const gate = createQuitGate({
    run: async () => {
      try {
        return await quitSequence({
          mode: connection.mode,
          behaviour: settings.quit,
          activeModels: async () =>
            (await connection.admin.listModels()).filter((m) => !['stopped', 'failed'].includes(m.status.state)),
          stopModel: async (id) => void (await connection.admin.stopModel(id)),
          closeConnection: async () => {
            await controller.close()
            await connection.close()
          },
          progress: progressWindow(),
          stopDeadlineMs: 60_000,
          closeDeadlineMs: 30_000,
          progressAfterMs: 1500,
        })
      } finally {
        tray.destroy()
      }
    },
    quit: () => app.quit(),
    install: () => updates.install(),
    report: (problems) => console.error(`cortex: quit: ${problems.join('; ')}`),
  })
  const consoleWindow: ConsoleWindow = createConsoleWindow({
    origin: connection.url,
    signInUrl: async () => (await connection.admin.signInCode()).url,
    preload: preloadPath(here),
    icon: path.join(resources, 'icon.png'),
    hasTrayHost: trayHost,
    quitting: () => gate.quitting(),
    modeLabel,
  })
  const applied = async (next: DesktopSettings) => {
    settings = next
    await applyStartAtLogin(next, loginTarget())
    controller.refresh()
  }
  const noUpdates = updatesUnavailable(app.isPackaged, process.resourcesPath)
  const updates = createUpdateFlow({
    updater: noUpdates === null ? electronUpdater() : null,
    disabledReason: noUpdates ?? '',
    onState: (state) => {
      if (state.phase === 'available') void updates.download()
      if (state.phase === 'ready') {
        new Notification({ title: `Cortex ${state.version} is ready`, body: 'It installs when you quit Cortex.' }).show()
        controller.refresh()
      }
    },
  })
  const shown = new Set<Notification>()
  const tray = createDesktopTray(resources, (action) => void controller.handle(action))
  const controller = startController(connection, {
    setTray: (menu, icon) => tray.update(menu, icon, `Cortex — ${modeLabel} (${icon})`),
    notify: ({ title, body, modelId }) => {
      const n = new Notification({ title, body })
      // Held until it is dismissed: a Notification nothing references can be collected, and its click is lost then.
      shown.add(n)
      n.on('click', () => {
        shown.delete(n)
        consoleWindow.show(modelId)
      })
      n.on('close', () => shown.delete(n))
      n.show()
    },
    copy: (text) => clipboard.writeText(text),
    showConsole: (modelId) => consoleWindow.show(modelId),
    quit: () => app.quit(),
    settings: () => settings,
    changeSettings: async (change) => applied(await saveSettings(userData, { ...settings, ...change })),
    updateReady: () => {
      const state = updates.state()
      return state.phase === 'ready' ? state.version : null
    },
    installUpdate: () => {
      const state = updates.state()
      if (state.phase !== 'ready') throw new Error(`no update is downloaded to install (the update is ${state.phase})`)
      gate.installAfterQuit()
      app.quit()
    },
    report: (title, message) => void dialog.showMessageBox({ type: 'error', title, message: title, detail: message }),
  })
  globalThis.cortexDesktop = { mode: connection.mode, url: connection.url, controller }
  // From here on every quit goes through the sequence (everything it closes exists now).
  app.on('before-quit', (event) => gate.beforeQuit(event))
  registerIpc(connection, consoleWindow.window, userData, () => settings, applied)
  await applyStartAtLogin(settings, loginTarget())
  await consoleWindow.signIn()
  const start = startWindow(settings, process.argv, app.getLoginItemSettings().wasOpenedAtLogin, trayHost)
  if (start === 'show') consoleWindow.show()
  else if (start === 'minimize') consoleWindow.window.minimize()
  showWindow = () => consoleWindow.show()

  void updates.check()
}

const portDialog: PortDialog = {
  askForPort: async (taken, suggestion) => {
    const { response } = await dialog.showMessageBox({
      type: 'warning',
      title: 'Port in use',
      message: `Port ${taken} on 127.0.0.1 is in use by another program`,
      detail: `Cortex's gateway cannot listen there. Use port ${suggestion} instead? (Clients then use http://127.0.0.1:${suggestion}/v1; the port is kept in Cortex's settings.)`,
      buttons: [`Use port ${suggestion}`, 'Quit'],
      defaultId: 0,
      cancelId: 1,
    })
    return response === 0 ? suggestion : null
  },
}

function loginTarget() {
  return {
    platform: process.platform,
    executable: process.env.APPIMAGE ?? process.execPath,
    items: { setLoginItemSettings: (s: Electron.Settings) => app.setLoginItemSettings(s) },
  }
}

function registerIpc(
  connection: Connection,
  window: BrowserWindow,
  userData: string,
  running: () => DesktopSettings,
  applied: (settings: DesktopSettings) => Promise<void>,
): void {
  const handlers = createHandlers({ connection: { mode: connection.mode, url: connection.url }, userData, running, applied })
  for (const channel of IPC_CHANNELS) {
    ipcMain.handle(channel, (event, raw: unknown) =>
      dispatch(
        channel,
        event.sender === window.webContents && isConsoleUrl(event.senderFrame?.url, connection.url),
        raw,
        handlers,
      ),
    )
  }
}

/** A small window with the quit's progress (only when stopping takes a while). */
function progressWindow() {
  let win: BrowserWindow | null = null
  const page = (text: string) =>
    `data:text/html;charset=utf-8,${encodeURIComponent(`<!doctype html><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"><style>body{font:14px system-ui;margin:24px;color-scheme:light dark}</style><p>${text.replace(/[<&]/g, (c) => (c === '<' ? '&lt;' : '&amp;'))}</p>`)}`
  return {
    show: (text: string) => {
      if (win?.isDestroyed()) win = null
      win ??= new BrowserWindow({
        width: 460,
        height: 140,
        resizable: false,
        minimizable: false,
        // Closing it would not stop the quit, only hide what it is waiting for.
        closable: false,
        title: 'Quitting Cortex',
        webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false, javascript: false },
      })
      void win.loadURL(page(text))
    },
    close: () => {
      if (win !== null && !win.isDestroyed()) win.destroy()
    },
  }
}
