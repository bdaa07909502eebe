import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { _electron, type ElectronApplication } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { TrayAction, TrayItem } from '../../electron/main/tray-menu.js'
import type { DesktopBridge } from '../../gateway/contract/ipc.js'
import { NATIVE_MODULE, moduleAbis } from '../../scripts/stage-app.js'
import { tinyModelConfig } from '../support/tiny-config.js'

/**
 * The desktop app itself, on Playwright's `_electron` (issue 13): it runs the staging copy in build/app, whose
 * better-sqlite3 is built for Electron's ABI (the checkout's is Node's), so it needs the Electron binary and
 * `npm run build && npm run build:console && npx tsx scripts/stage-app.ts`, both of which download. Native tray
 * menus cannot be clicked: the menu template is read, and its actions run, in the main process.
 */

const electronBinary = (() => {
  try {
    return createRequire(import.meta.url)('electron') as unknown as string
  } catch {
    return null
  }
})()
const staged = path.resolve('build/app')
const stagedModule = path.join(staged, NATIVE_MODULE)
const electronAbi = readFileSync(path.resolve('node_modules/electron/abi_version'), 'utf8').trim()
const why =
  !electronBinary || !existsSync(electronBinary)
    ? 'no Electron binary installed (electron’s install script is off; run `node node_modules/electron/install.js` where GitHub is reachable)'
    : !existsSync(path.join(staged, 'dist/electron/main/index.js')) || !existsSync(stagedModule)
      ? 'no staged app in build/app (run `npm run build && npm run build:console && npx tsx scripts/stage-app.ts`, which builds better-sqlite3 for Electron)'
      : !moduleAbis(stagedModule).includes(electronAbi)
        ? `build/app holds better-sqlite3 built for ABI ${moduleAbis(stagedModule).join(', ')}, not Electron's ${electronAbi}: run \`npx tsx scripts/stage-app.ts\` again`
        : null

type Desktop = { mode: string; url: string; controller: { menu(): TrayItem[]; handle(a: TrayAction): Promise<void> } }

describe.skipIf(why !== null)(`desktop app${why ? ` — skipped: ${why}` : ''}`, () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'cortex-electron-'))
  let app: ElectronApplication
  const menu = () => app.evaluate(() => (globalThis as unknown as { cortexDesktop: Desktop }).cortexDesktop.controller.menu())
  const modelLabels = async () => (await menu()).filter((i) => i.id?.startsWith('model:')).map((i) => i.label)

  beforeAll(async () => {
    const model = path.join(home, 'tiny.gguf')
    copyFileSync(inject('tinyModel'), model)
    const config = path.join(home, 'cortex.yaml')
    writeFileSync(config, tinyModelConfig(inject('llamaServer'), model, 'tiny', 256))
    app = await _electron.launch({
      executablePath: electronBinary!,
      args: [staged, `--user-data-dir=${path.join(home, 'user-data')}`],
      env: {
        ...process.env,
        HOME: home,
        XDG_CONFIG_HOME: path.join(home, '.config'),
        CORTEX_DATA_DIR: path.join(home, 'data'),
        CORTEX_CONFIG: config,
        CORTEX_PORT: '0',
        CORTEX_ADMIN_TOKEN: '',
      },
    })
  })
  afterAll(async () => {
    await app?.close()
    rmSync(home, { recursive: true, force: true })
  })

  it('opens the console signed in, embedded, with only the typed bridge', async () => {
    const window = await app.firstWindow()
    await window.getByTestId('user').waitFor()
    expect(await window.getByTestId('user').textContent()).toContain('admin')
    expect(new URL(window.url()).searchParams.has('code')).toBe(false)
    const connection = await window.evaluate(() => (window as unknown as { api: DesktopBridge }).api.connection())
    expect(connection).toMatchObject({
      ok: true,
      value: { mode: 'embed', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) },
    })
    expect(await window.evaluate(() => typeof (window as unknown as { require?: unknown }).require)).toBe('undefined')
    expect(await window.evaluate(() => Object.keys((window as unknown as { api: object }).api).sort())).toEqual([
      'connection',
      'saveSettings',
      'settings',
    ])
  })

  it('the tray menu lists the models, and switching from it starts the model', async () => {
    await expect.poll(modelLabels, { timeout: 30_000 }).toEqual(['tiny — stopped'])
    const entry = (await menu()).find((i) => i.id?.startsWith('model:'))!
    await app.evaluate(
      (_electron, action) => (globalThis as unknown as { cortexDesktop: Desktop }).cortexDesktop.controller.handle(action),
      entry.action!,
    )
    await expect.poll(modelLabels, { timeout: 60_000 }).toEqual(['tiny — running'])
  })
})
