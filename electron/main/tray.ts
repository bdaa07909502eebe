import { Menu, Tray, nativeImage, nativeTheme } from 'electron'
import path from 'node:path'
import { toElectronMenu, trayIconFile, type TrayAction, type TrayIconState, type TrayItem } from './tray-menu.js'

export interface DesktopTray {
  update(menu: TrayItem[], icon: TrayIconState, tooltip: string): void
  destroy(): void
}

export function createDesktopTray(resources: string, onAction: (action: TrayAction) => void): DesktopTray {
  const image = (state: TrayIconState) => {
    const file = path.join(resources, trayIconFile(state, process.platform, nativeTheme.shouldUseDarkColors))
    const icon = nativeImage.createFromPath(file)
    if (process.platform === 'darwin') icon.setTemplateImage(true)
    return icon
  }
  const tray = new Tray(image('idle'))
  let shown: TrayIconState = 'idle'
  // The template is rebuilt on every event; the native menu only when it reads differently.
  let lastMenu = ''
  nativeTheme.on('updated', () => tray.setImage(image(shown)))
  return {
    update: (menu, icon, tooltip) => {
      if (icon !== shown) tray.setImage(image((shown = icon)))
      tray.setToolTip(tooltip)
      const text = JSON.stringify(menu)
      if (text === lastMenu) return
      lastMenu = text
      tray.setContextMenu(Menu.buildFromTemplate(toElectronMenu(menu, onAction)))
    },
    destroy: () => tray.destroy(),
  }
}
