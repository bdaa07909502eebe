/**
 * The desktop app's bridge between the console window and the Electron main process (STYLE.md §8): every channel
 * with its request and answer. The preload exposes one function per channel; the main process handles each one and
 * checks that the sender is the console window. A type test fails when a channel here is not handled, or a handler
 * has no channel here.
 */

/** `embed`: the gateway runs inside the app. `attach`: the app is a client of a `cortex serve` already running. */
export type DesktopMode = 'embed' | 'attach'

/** What Quit does to the embedded gateway's engines (attached, Quit never stops the server's engines). */
export type QuitBehaviour = 'stop-engines' | 'leave-running'

/** The desktop app's own settings, in a small JSON file in Electron's user-data folder; all else is the core's. */
export interface DesktopSettings {
  /** Where the embedded gateway listens on 127.0.0.1. */
  port: number
  startAtLogin: boolean
  /** Start with the window hidden (in the tray). */
  startHidden: boolean
  /** `leave-running` keeps Docker containers running, adopted at the next start; process engines always stop. */
  quit: QuitBehaviour
}

export interface ConnectionInfo {
  mode: DesktopMode
  /** The gateway's root, e.g. http://127.0.0.1:31313 (`/v1` under it). */
  url: string
}

export interface SettingsView {
  settings: DesktopSettings
  /** Why the file on disk was not used (its values then are the defaults), or null. */
  problem: string | null
  /** Settings that take effect at the next start (the port). */
  restartNeeded: boolean
}

/** Errors cross the bridge as values: Electron would flatten a thrown error into a string. */
export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: { code: IpcErrorCode; message: string } }

export type IpcErrorCode = 'invalid_request' | 'not_console' | 'failed'

/** Every channel: its request (undefined for none) and its answer. */
export interface IpcChannels {
  'desktop:connection': { request: undefined; answer: ConnectionInfo }
  'desktop:settings': { request: undefined; answer: SettingsView }
  'desktop:save-settings': { request: DesktopSettings; answer: SettingsView }
}

export type IpcChannel = keyof IpcChannels
export type IpcRequest<C extends IpcChannel> = IpcChannels[C]['request']
export type IpcAnswer<C extends IpcChannel> = IpcChannels[C]['answer']

/** The channel names, for the main process to register and check against. */
export const IPC_CHANNELS = [
  'desktop:connection',
  'desktop:settings',
  'desktop:save-settings',
] as const satisfies readonly IpcChannel[]

/** The preload's function for each channel. */
export const BRIDGE_FUNCTIONS = {
  'desktop:connection': 'connection',
  'desktop:settings': 'settings',
  'desktop:save-settings': 'saveSettings',
} as const satisfies Record<IpcChannel, string>

type BridgeFunction<C extends IpcChannel> =
  IpcRequest<C> extends undefined
    ? () => Promise<IpcResult<IpcAnswer<C>>>
    : (request: IpcRequest<C>) => Promise<IpcResult<IpcAnswer<C>>>

/** What the preload exposes as `window.api`: one function per channel, nothing else. */
export type DesktopBridge = { [C in IpcChannel as (typeof BRIDGE_FUNCTIONS)[C]]: BridgeFunction<C> }
