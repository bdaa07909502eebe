import { app, BrowserWindow, ipcMain } from 'electron'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startDesktop, type DesktopShell } from './desktop.js'
import { startServer } from '../../gateway/index.js'

const here = path.dirname(fileURLToPath(import.meta.url))
let window: BrowserWindow | null = null

const shell: DesktopShell = {
  requestSingleInstanceLock: () => app.requestSingleInstanceLock(),
  focusWindow: () => {
    if (window?.isMinimized()) window.restore()
    window?.focus()
  },
  openWindow: (url) => {
    ipcMain.handle('cortex:gateway-url', (event) => {
      if (event.senderFrame?.url.startsWith(url) !== true) throw new Error('gateway-url: sender is not the Cortex window')
      return url
    })
    window = new BrowserWindow({
      width: 1280,
      height: 820,
      webPreferences: {
        preload: path.join(here, '../preload/index.cjs'),
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
      },
    })
    void window.loadURL(url)
  },
  quit: () => app.quit(),
}

app.on('second-instance', () => shell.focusWindow())

await app.whenReady()
const shutdown = await startDesktop(shell, async () => {
  const server = await startServer({ flags: {}, env: process.env }) // same data directory as `cortex serve`
  return { url: server.url, close: () => server.close() }
})
app.on('before-quit', (event) => {
  if (!shutdown) return
  event.preventDefault()
  void shutdown().finally(() => app.exit(0))
})
