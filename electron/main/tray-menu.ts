import type { MenuItemConstructorOptions } from 'electron'
import type { ModelView } from '../../gateway/contract/admin.js'
import type { DesktopMode, DesktopSettings } from '../../gateway/contract/ipc.js'
import type { EngineState } from '../../gateway/contract/model.js'

/**
 * The tray menu as a pure function of state (issue 13): contract types in, a template out. The template has the
 * shape of Electron's MenuItemConstructorOptions with `action` (plain data) where Electron has `click`, so tests and
 * the `_electron` suite read it as it is and tray.ts alone turns actions into clicks.
 */

export type TrayAction =
  | { type: 'switch'; id: string }
  | { type: 'start'; id: string }
  | { type: 'stop'; id: string }
  | { type: 'pin'; id: string; pinned: boolean }
  | { type: 'open-console' }
  | { type: 'copy-base-url' }
  | { type: 'new-key' }
  | { type: 'pause'; paused: boolean }
  | { type: 'settings'; change: Partial<DesktopSettings> }
  | { type: 'install-update' }
  | { type: 'quit' }

export interface TrayItem {
  label?: string
  type?: 'normal' | 'separator' | 'submenu' | 'checkbox'
  enabled?: boolean
  checked?: boolean
  /** The menu item's id: `model:<id>` for a model's entry. */
  id?: string
  submenu?: TrayItem[]
  action?: TrayAction
}

export interface TrayInput {
  mode: DesktopMode
  /** The gateway's root, e.g. http://127.0.0.1:31313 */
  url: string
  /** null while the events stream is not connected (the menu says so instead of showing stale states). */
  models: ModelView[] | null
  /** GPU memory each model's engines hold, by model id, from the latest GPU sample; null without a reading. */
  gpuBytes: ReadonlyMap<string, number> | null
  paused: boolean
  settings: DesktopSettings
  /** The version of a downloaded update waiting to be installed, or null. */
  updateReady: string | null
  /** Epoch ms, for the elapsed time of a load. */
  now: number
}

export type TrayIconState = 'idle' | 'loading' | 'running' | 'failed'

/** At a glance: a load in progress first (it is what the person waits for), then a failure, then anything running. */
export function trayIconState(models: ModelView[] | null): TrayIconState {
  const states = new Set<EngineState>((models ?? []).map((m) => m.status.state))
  if (states.has('starting') || states.has('loading')) return 'loading'
  if (states.has('failed')) return 'failed'
  if (states.has('running') || states.has('stopping')) return 'running'
  return 'idle'
}

export function trayMenu(input: TrayInput): TrayItem[] {
  const host = input.url.replace(/^https?:\/\//, '')
  const heading = input.mode === 'embed' ? `Cortex — gateway on ${host}` : `Cortex — attached to cortex serve on ${host}`
  return [
    { label: heading, enabled: false },
    // Disconnected, whether serving is paused is not known: no stale line.
    ...(input.paused && input.models !== null ? [{ label: 'Serving /v1 is paused', enabled: false }] : []),
    { type: 'separator' },
    ...modelItems(input),
    { type: 'separator' },
    { label: 'Open Console', action: { type: 'open-console' } },
    { label: `Copy API Base URL (${input.url}/v1)`, action: { type: 'copy-base-url' } },
    { label: 'New API Key (copied to the clipboard)', action: { type: 'new-key' } },
    input.paused
      ? { label: 'Resume Serving /v1', action: { type: 'pause', paused: false } }
      : { label: 'Pause Serving /v1', action: { type: 'pause', paused: true } },
    { label: 'Settings', type: 'submenu', submenu: settingsItems(input) },
    { type: 'separator' },
    ...(input.updateReady === null
      ? []
      : [{ label: `Restart to Install Cortex ${input.updateReady}`, action: { type: 'install-update' } } as const]),
    { label: input.mode === 'embed' ? 'Quit Cortex' : 'Quit (cortex serve keeps running)', action: { type: 'quit' } },
  ]
}

function settingsItems({ settings, mode }: TrayInput): TrayItem[] {
  const toggle = (label: string, key: 'startAtLogin' | 'startHidden'): TrayItem => ({
    label,
    type: 'checkbox',
    checked: settings[key],
    action: { type: 'settings', change: { [key]: !settings[key] } },
  })
  const stops = settings.quit === 'stop-engines'
  return [
    toggle('Start at Login', 'startAtLogin'),
    toggle('Start Hidden in the Tray at Login', 'startHidden'),
    mode === 'embed'
      ? {
          label: 'Stop Running Models on Quit (off: Docker containers keep running)',
          type: 'checkbox',
          checked: stops,
          action: { type: 'settings', change: { quit: stops ? 'leave-running' : 'stop-engines' } },
        }
      : { label: "Quit never stops the server's models (attached)", enabled: false },
    { label: `Gateway port ${settings.port} (desktop-settings.json)`, enabled: false },
  ]
}

function modelItems(input: TrayInput): TrayItem[] {
  if (input.models === null) return [{ label: 'Not connected to the gateway — retrying…', enabled: false }]
  if (input.models.length === 0) return [{ label: 'No models yet — add one in the console', enabled: false }]
  const sorted = [...input.models].sort((a, b) => a.name.localeCompare(b.name))
  return [
    { label: 'Models (click one to switch to it)', enabled: false },
    ...sorted.map((m): TrayItem => ({
      id: `model:${m.id}`,
      label: `${m.name} — ${describeState(m, input)}`,
      type: 'checkbox',
      checked: m.status.state === 'running',
      action: { type: 'switch', id: m.id },
    })),
    {
      label: 'Start, Stop, Pin',
      type: 'submenu',
      submenu: sorted.map((m) => ({ label: m.name, type: 'submenu', submenu: modelActions(m) })),
    },
  ]
}

function modelActions(m: ModelView): TrayItem[] {
  const state = m.status.state
  return [
    { label: 'Start', enabled: state === 'stopped' || state === 'failed', action: { type: 'start', id: m.id } },
    { label: 'Stop', enabled: state !== 'stopped' && state !== 'stopping', action: { type: 'stop', id: m.id } },
    {
      label: 'Pinned (never stopped for idleness, eviction or a switch)',
      type: 'checkbox',
      checked: m.pinned,
      action: { type: 'pin', id: m.id, pinned: !m.pinned },
    },
  ]
}

function describeState(m: ModelView, input: TrayInput): string {
  const { state, startingSince, diagnosis } = m.status
  const parts: string[] = []
  if (state === 'starting' || state === 'loading') {
    parts.push(startingSince === null ? state : `${state} ${formatElapsed(input.now - startingSince)}`)
  } else if (state === 'failed') {
    parts.push(diagnosis ? `failed: ${diagnosis.cause}` : 'failed')
  } else {
    parts.push(state)
  }
  const bytes = input.gpuBytes?.get(m.id)
  if (bytes !== undefined && bytes > 0) parts.push(formatGiB(bytes))
  if (m.pinned) parts.push('pinned')
  return parts.join(' · ')
}

/** `0:07`, `2:35`, `1:02:09`. */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = String(total % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`
}

/** GiB with one decimal, as the console says it. */
export function formatGiB(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`
}

/**
 * The tray image for a state, relative to the resources folder: macOS takes a template image (black and alpha, tinted
 * by the menu bar for light and dark); elsewhere a light glyph on a dark taskbar and a dark one on a light taskbar.
 * Electron picks the `@2x` file beside it on high-density screens.
 */
export function trayIconFile(state: TrayIconState, platform: NodeJS.Platform, darkTaskbar: boolean): string {
  if (platform === 'darwin') return `tray/${state}Template.png`
  return `tray/${state}-${darkTaskbar ? 'dark' : 'light'}.png`
}

/** Turns the template into Electron's: each `action` becomes a click that hands it to `onAction`. */
export function toElectronMenu(items: TrayItem[], onAction: (action: TrayAction) => void): MenuItemConstructorOptions[] {
  return items.map(({ action, submenu, ...item }) => ({
    ...item,
    ...(submenu !== undefined && { submenu: toElectronMenu(submenu, onAction) }),
    ...(action !== undefined && { click: () => onAction(action) }),
  }))
}
