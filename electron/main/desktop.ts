import type { AdminEvent } from '../../gateway/contract/admin.js'
import type { DesktopSettings } from '../../gateway/contract/ipc.js'
import type { Connection } from './connect.js'
import { notificationFor, type DesktopNotification } from './notifications.js'
import { trayIconState, trayMenu, type TrayAction, type TrayIconState, type TrayItem } from './tray-menu.js'
import { DISCONNECTED, applyEvent, createRebuilder, type Timers, type TrayModels } from './tray-state.js'

/**
 * The desktop app's controller, with Electron behind an interface so it runs and is tested in plain Node against a
 * real gateway: it follows the admin events stream (reconnecting), keeps the tray menu and icon in step, raises the
 * notifications, and carries out what the tray's items ask.
 */
export interface DesktopShell {
  setTray(menu: TrayItem[], icon: TrayIconState): void
  notify(notification: DesktopNotification): void
  copy(text: string): void
  /** Shows the console window (on a model's page when given). */
  showConsole(modelId?: string): void
  quit(): void
  /** The desktop settings in force now. */
  settings(): DesktopSettings
  /** Saves and applies a change to them (validated; start at login is written at once). */
  changeSettings(change: Partial<DesktopSettings>): Promise<void>
  /** The version of a downloaded update waiting to be installed, or null. */
  updateReady(): string | null
  /** Quits (through the quit sequence) and installs it. */
  installUpdate(): void
  /** Something the person asked for failed: say so. */
  report(title: string, message: string): void
}

export interface ControllerOptions {
  now?: () => number
  timers?: Timers
  /** Wait before reconnecting to the events stream. */
  retryMs?: number
}

export interface DesktopController {
  /** The menu as it stands (what the `_electron` suite reads). */
  menu(): TrayItem[]
  models(): TrayModels
  handle(action: TrayAction): Promise<void>
  /** Rebuilds the menu (the settings changed elsewhere, e.g. from the console). */
  refresh(): void
  /** Stops following the events stream. */
  close(): Promise<void>
}

export function startController(connection: Connection, shell: DesktopShell, options: ControllerOptions = {}): DesktopController {
  const { admin, mode, url } = connection
  const now = options.now ?? Date.now
  const retryMs = options.retryMs ?? 2000
  let state: TrayModels = DISCONNECTED
  let paused = false
  let menu: TrayItem[] = []
  const render = () => {
    const settings = shell.settings()
    const { models, gpuBytes } = state
    menu = trayMenu({ mode, url, models, gpuBytes, paused, settings, updateReady: shell.updateReady(), now: now() })
    shell.setTray(menu, trayIconState(state.models))
  }
  const loading = () => (state.models ?? []).some((m) => m.status.state === 'starting' || m.status.state === 'loading')
  const rebuilder = createRebuilder(render, loading, options.timers)

  const onEvent = (event: AdminEvent) => {
    if (event.type === 'model_state') {
      const before = state.models?.find((m) => m.id === event.id)?.status.state
      const notification = notificationFor(event, before)
      if (notification !== null) shell.notify(notification)
    }
    if (event.type === 'snapshot') void refreshPaused()
    state = applyEvent(state, event, now())
    // GPU samples come every 2 s and only change figures: they wait for the next rebuild the debounce allows.
    rebuilder.schedule()
  }
  // No event announces a pause by another client: it is read again with each snapshot (each reconnect).
  const refreshPaused = async () => {
    try {
      paused = (await admin.paused()).paused
      rebuilder.schedule()
    } catch (err) {
      shell.report('Could not read whether serving is paused', (err as Error).message)
    }
  }

  const stop = new AbortController()
  const following = (async () => {
    while (!stop.signal.aborted) {
      try {
        await admin.followEvents(onEvent, stop.signal)
      } catch {
        // The gateway went away or restarts: the menu says "not connected" until the stream is back.
      }
      if (stop.signal.aborted) break
      state = DISCONNECTED
      rebuilder.schedule()
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, retryMs)
        stop.signal.addEventListener('abort', () => (clearTimeout(timer), resolve(undefined)), { once: true })
      })
    }
  })()
  render()

  const nameOf = (id: string) => state.models?.find((m) => m.id === id)?.name ?? id
  const attempt = async (what: string, work: () => Promise<unknown>) => {
    try {
      await work()
    } catch (err) {
      shell.report(`${what} failed`, (err as Error).message)
    }
  }

  return {
    menu: () => menu,
    models: () => state,
    handle: async (action) => {
      switch (action.type) {
        case 'switch':
          return attempt(`Switching to ${nameOf(action.id)}`, () => admin.switchModel(action.id))
        case 'start':
          return attempt(`Starting ${nameOf(action.id)}`, () => admin.startModel(action.id))
        case 'stop':
          return attempt(`Stopping ${nameOf(action.id)}`, () => admin.stopModel(action.id))
        case 'pin':
          return attempt(`${action.pinned ? 'Pinning' : 'Unpinning'} ${nameOf(action.id)}`, () =>
            admin.pinModel(action.id, action.pinned),
          )
        case 'open-console':
          return shell.showConsole()
        case 'copy-base-url':
          return shell.copy(`${url}/v1`)
        case 'new-key':
          return attempt('Making an API key', async () => {
            const created = await admin.createKey({ name: `desktop ${new Date(now()).toISOString().slice(0, 16)}` })
            shell.copy(created.key)
            shell.notify({
              title: 'API key copied',
              body: `${created.apiKey.prefix}… is on the clipboard; it is shown only this once.`,
            })
          })
        case 'pause':
          return attempt(action.paused ? 'Pausing' : 'Resuming', async () => {
            paused = (await admin.setPaused(action.paused)).paused
            rebuilder.schedule()
          })
        case 'settings':
          return attempt('Saving the settings', () => shell.changeSettings(action.change))
        case 'install-update':
          return attempt('Installing the update', async () => shell.installUpdate())
        case 'quit':
          return shell.quit()
      }
    },
    refresh: () => rebuilder.schedule(),
    close: async () => {
      stop.abort()
      rebuilder.close()
      await following
    },
  }
}
