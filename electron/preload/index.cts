// Sandboxed preloads run as CommonJS, hence .cts and an import-equals require.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import electron = require('electron')
import type { DesktopBridge, IpcAnswer, IpcChannel, IpcRequest, IpcResult } from '../../gateway/contract/ipc.js' with {
  'resolution-mode': 'import',
}

/**
 * One function per channel of gateway/contract/ipc.ts (STYLE.md §8): `satisfies DesktopBridge` fails to compile
 * when one is missing or extra. Nothing generic and no file system reach the page. (A sandboxed preload can
 * require only electron, so the channel names are written out here and checked against the contract's.)
 */
const call = <C extends IpcChannel>(channel: C, request?: IpcRequest<C>): Promise<IpcResult<IpcAnswer<C>>> =>
  electron.ipcRenderer.invoke(channel, request)

const api = {
  connection: () => call('desktop:connection'),
  settings: () => call('desktop:settings'),
  saveSettings: (settings) => call('desktop:save-settings', settings),
} satisfies DesktopBridge

electron.contextBridge.exposeInMainWorld('api', api)
