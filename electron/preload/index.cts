// Sandboxed preloads run as CommonJS, hence .cts and an import-equals require.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import electron = require('electron')

/** One function per IPC channel (STYLE.md §8); nothing generic is exposed to the page. */
const api = {
  /** The gateway's base URL, so the renderer talks to it over HTTP like any other client. */
  gatewayUrl: (): Promise<string> => electron.ipcRenderer.invoke('cortex:gateway-url'),
}

export type CortexBridge = typeof api

electron.contextBridge.exposeInMainWorld('api', api)
