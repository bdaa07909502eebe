// electron-updater is CommonJS: its exports come as the default import.
import updaterPackage from 'electron-updater'
import { existsSync } from 'node:fs'
import path from 'node:path'
import type { Updater } from './updates.js'

/**
 * Why updates cannot work in this run, or null: only an installed build updates, and only when the publisher filled
 * in `publish` in electron-builder.yml (electron-builder then writes app-update.yml into the resources).
 */
export function updatesUnavailable(isPackaged: boolean, resourcesPath: string): string | null {
  if (!isPackaged) return 'updates come with an installed build (this one runs from source)'
  if (!existsSync(path.join(resourcesPath, 'app-update.yml')))
    return 'this build names no update feed (the publisher sets publish in electron-builder.yml)'
  return null
}

/** electron-updater behind the Updater interface: nothing downloads until asked; a downloaded update installs on quit. */
export function electronUpdater(): Updater {
  const { autoUpdater } = updaterPackage
  autoUpdater.autoDownload = false
  autoUpdater.autoInstallOnAppQuit = true
  return {
    check: async () => {
      const result = await autoUpdater.checkForUpdates()
      return result?.isUpdateAvailable ? result.updateInfo.version : null
    },
    download: async () => {
      await autoUpdater.downloadUpdate()
    },
    install: () => autoUpdater.quitAndInstall(),
  }
}
