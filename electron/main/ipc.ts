import type {
  ConnectionInfo,
  DesktopSettings,
  IpcAnswer,
  IpcChannel,
  IpcErrorCode,
  IpcRequest,
  IpcResult,
  SettingsView,
} from '../../gateway/contract/ipc.js'
import { SettingsError, loadSettings, saveSettings, validateSettings } from './settings.js'

/** One handler per channel of gateway/contract/ipc.ts: a missing or an extra one does not type-check. */
export type IpcHandlers = { [C in IpcChannel]: (request: IpcRequest<C>) => Promise<IpcAnswer<C>> }

/** Turns what the page sent into the channel's request, or throws an IpcRefusal saying what was wrong. */
export type IpcValidators = { [C in IpcChannel]: (raw: unknown) => IpcRequest<C> }

export class IpcRefusal extends Error {
  override readonly name = 'IpcRefusal'
  constructor(
    readonly code: IpcErrorCode,
    message: string,
  ) {
    super(message)
  }
}

const none = (channel: IpcChannel) => (raw: unknown) => {
  if (raw !== undefined) throw new IpcRefusal('invalid_request', `${channel} takes no argument`)
  return undefined
}

export const validators: IpcValidators = {
  'desktop:connection': none('desktop:connection'),
  'desktop:settings': none('desktop:settings'),
  'desktop:save-settings': (raw) => {
    try {
      return validateSettings(raw)
    } catch (err) {
      if (err instanceof SettingsError) throw new IpcRefusal('invalid_request', err.message)
      throw err
    }
  },
}

export interface HandlerDeps {
  connection: ConnectionInfo
  /** Electron's user-data folder, where the settings file lives. */
  userData: string
  /** The settings the app runs with now (the port takes effect at the next start). */
  running: () => DesktopSettings
  /** Applies saved settings that take effect at once (start at login, hidden start, quit behaviour). */
  applied: (settings: DesktopSettings) => Promise<void>
}

export function createHandlers(deps: HandlerDeps): IpcHandlers {
  const view = (settings: DesktopSettings, problem: string | null): SettingsView => ({
    settings,
    problem,
    restartNeeded: settings.port !== deps.running().port,
  })
  return {
    'desktop:connection': async () => deps.connection,
    'desktop:settings': async () => {
      const { settings, problem } = await loadSettings(deps.userData)
      return view(settings, problem)
    },
    'desktop:save-settings': async (settings) => {
      const saved = await saveSettings(deps.userData, settings)
      await deps.applied(saved)
      return view(saved, null)
    },
  }
}

/**
 * Answers one IPC call: refuses a sender that is not the console window, validates the request, runs the handler,
 * and turns every outcome into a value (Electron would flatten a thrown error into a string).
 */
export async function dispatch<C extends IpcChannel>(
  channel: C,
  fromConsole: boolean,
  raw: unknown,
  handlers: IpcHandlers,
  check: IpcValidators = validators,
): Promise<IpcResult<IpcAnswer<C>>> {
  if (!fromConsole) return refused('not_console', `${channel}: the sender is not the Cortex console window`)
  try {
    const request = check[channel](raw) as IpcRequest<C>
    return { ok: true, value: await (handlers[channel] as (r: IpcRequest<C>) => Promise<IpcAnswer<C>>)(request) }
  } catch (err) {
    if (err instanceof IpcRefusal) return refused(err.code, err.message)
    return refused('failed', `${channel}: ${err instanceof Error ? err.message : String(err)}`)
  }
}

function refused(code: IpcErrorCode, message: string): { ok: false; error: { code: IpcErrorCode; message: string } } {
  return { ok: false, error: { code, message } }
}
