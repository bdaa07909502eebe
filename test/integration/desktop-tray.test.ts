import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { connect, freePort, gatewayDeps, type Connection } from '../../electron/main/connect.js'
import { startController, type DesktopController, type DesktopShell } from '../../electron/main/desktop.js'
import type { DesktopNotification } from '../../electron/main/notifications.js'
import { quitSequence } from '../../electron/main/quit.js'
import type { TrayIconState, TrayItem } from '../../electron/main/tray-menu.js'
import { DEFAULT_SETTINGS } from '../../electron/main/settings.js'
import type { DesktopSettings } from '../../gateway/contract/ipc.js'
import { loadConfig, type CortexConfig } from '../../gateway/index.js'
import { processesMatching, startCortex, waitFor, type CortexProcess } from '../support/cortex-process.js'

/** The desktop controller (tray menu, notifications, tray actions, quit) on a real cortex serve with two tiny-model
 *  engines on the real llama-server, and on a core embedded in this process. */

const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-desktop-tray-'))
const configFile = path.join(dir, 'cortex.yaml')
const file = (name: string) => path.join(dir, `${name}.gguf`)
const env = (dataDir: string): NodeJS.ProcessEnv => ({ ...process.env, CORTEX_DATA_DIR: dataDir, CORTEX_ADMIN_TOKEN: '' })
const configOf = (dataDir: string): CortexConfig => {
  const config = loadConfig({ flags: { config: configFile, dataDir }, env: env(dataDir) })
  return { ...config, engines: { ...config.engines, stopOnExit: false } }
}
const engines = (name: string) => processesMatching(file(name)).length

/** Electron's side played by a recorder. */
function recordingShell() {
  const trays: Array<{ menu: TrayItem[]; icon: TrayIconState }> = []
  const notes: DesktopNotification[] = []
  const copied: string[] = []
  const reports: string[] = []
  let settings: DesktopSettings = DEFAULT_SETTINGS
  let controller: DesktopController | undefined
  const shell: DesktopShell = {
    settings: () => settings,
    updateReady: () => null,
    installUpdate: () => {},
    changeSettings: async (change) => {
      settings = { ...settings, ...change }
      controller?.refresh()
    },
    setTray: (menu, icon) => void trays.push({ menu, icon }),
    notify: (n) => void notes.push(n),
    copy: (text) => void copied.push(text),
    showConsole: () => {},
    quit: () => {},
    report: (title, message) => void reports.push(`${title}: ${message}`),
  }
  return { shell, trays, notes, copied, reports, attach: (c: DesktopController) => void (controller = c) }
}
const labels = (menu: TrayItem[]) => menu.filter((i) => i.id?.startsWith('model:')).map((i) => i.label)

beforeAll(() => {
  for (const name of ['a', 'b']) copyFileSync(inject('tinyModel'), file(name))
  const model = (name: string) =>
    `\n  - name: ${name}\n    engine: llamacpp\n    runtime: process\n    source: ${JSON.stringify(file(name))}\n    args: ["-c", "256"]`
  writeFileSync(
    configFile,
    `engines:\n  llamaServer: ${JSON.stringify(inject('llamaServer'))}\nmodels:${model('a')}${model('b')}\n`,
  )
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the desktop tray attached to a cortex serve', () => {
  const dataDir = path.join(dir, 'served')
  let serve: CortexProcess
  let connection: Connection
  let controller: DesktopController
  const rec = recordingShell()
  const idOf = (name: string) => controller.models().models!.find((m) => m.name === name)!.id

  beforeAll(async () => {
    serve = await startCortex(['serve', '--config', configFile, '--data-dir', dataDir, '--port', '0'], env(dataDir))
    connection = await connect(31313, gatewayDeps(configOf(dataDir), env(dataDir), { askForPort: async () => null }))
    controller = startController(connection, rec.shell, { retryMs: 200 })
    rec.attach(controller)
  })
  afterAll(async () => {
    await controller?.close()
    await connection?.close()
    await serve?.stop()
  })

  it('lists the models from the events stream, attached', async () => {
    expect(connection.mode).toBe('attach')
    await waitFor('models in the menu', () => (labels(controller.menu()).length === 2 ? true : undefined))
    expect(labels(controller.menu())).toEqual(['a — stopped', 'b — stopped'])
    expect(controller.menu()[0]!.label).toBe(`Cortex — attached to cortex serve on ${serve.url.slice('http://'.length)}`)
    expect(rec.trays.at(-1)!.icon).toBe('idle')
  })

  it('switching from the tray loads the model (the icon shows it), says when it is ready, and a second switch stops the first', async () => {
    await controller.handle({ type: 'switch', id: idOf('a') })
    await waitFor('a ready', () => (rec.notes.some((n) => n.title === 'a is ready') ? true : undefined), 60_000)
    await waitFor('a running in the menu', () => (labels(controller.menu())[0] === 'a — running' ? true : undefined))
    expect(rec.trays.map((t) => t.icon)).toContain('loading')
    expect(rec.trays.at(-1)!.icon).toBe('running')

    await controller.handle({ type: 'switch', id: idOf('b') })
    await waitFor('b ready', () => (rec.notes.some((n) => n.title === 'b is ready') ? true : undefined), 60_000)
    await waitFor('a stopped', () => (labels(controller.menu())[0] === 'a — stopped' ? true : undefined))
    expect([engines('a'), engines('b')]).toEqual([0, 1])
    // A switch is not an eviction: only the two ready notifications.
    expect(rec.notes.map((n) => n.title)).toEqual(['a is ready', 'b is ready'])
    expect(rec.reports).toEqual([])
  })

  it('pauses and resumes /v1, copies the base URL and a new API key that works', async () => {
    await controller.handle({ type: 'pause', paused: true })
    await waitFor('paused in the menu', () => (controller.menu()[1]?.label === 'Serving /v1 is paused' ? true : undefined))
    await controller.handle({ type: 'pause', paused: false })
    await waitFor('resumed', () => (controller.menu().some((i) => i.label === 'Pause Serving /v1') ? true : undefined))

    await controller.handle({ type: 'copy-base-url' })
    expect(rec.copied).toEqual([`${serve.url}/v1`])
    await controller.handle({ type: 'new-key' })
    const key = rec.copied[1]!
    const models = await fetch(`${serve.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })
    expect(models.status).toBe(200)
    expect(rec.notes.at(-1)!.title).toBe('API key copied')
  })

  it('changes a desktop setting from the tray and shows it checked', async () => {
    const startAtLogin = () =>
      controller
        .menu()
        .find((i) => i.label === 'Settings')!
        .submenu!.find((i) => i.label === 'Start at Login')!
    expect(startAtLogin().checked).toBe(false)
    await controller.handle(startAtLogin().action!)
    await waitFor('the setting checked', () => (startAtLogin().checked ? true : undefined))
  })

  it('a failed tray action is reported, not thrown', async () => {
    await controller.handle({ type: 'stop', id: 'no-such-model' })
    expect(rec.reports).toEqual([expect.stringMatching(/^Stopping no-such-model failed: no model has id "no-such-model"/)])
  })

  it('quitting an attached app leaves the server and its engines running', async () => {
    const outcome = await quitSequence({
      mode: 'attach',
      behaviour: 'stop-engines',
      activeModels: () => Promise.reject(new Error('an attached quit must not ask')),
      stopModel: () => Promise.reject(new Error('an attached quit must not stop')),
      closeConnection: async () => {
        await controller.close()
        await connection.close()
      },
      progress: { show: () => {}, close: () => {} },
      stopDeadlineMs: 10_000,
      closeDeadlineMs: 10_000,
      progressAfterMs: 1000,
    })
    expect(outcome).toEqual({ stopped: [], problems: [] })
    expect(engines('b')).toBe(1)
    expect((await fetch(`${serve.url}/health`)).status).toBe(200)
  })
})

describe('the desktop app with the gateway embedded', () => {
  it('quit with stop-engines stops the running models before closing the core', async () => {
    const dataDir = path.join(dir, 'embedded')
    const connection = await connect(
      await freePort(),
      gatewayDeps(configOf(dataDir), env(dataDir), { askForPort: async () => null }),
    )
    expect(connection.mode).toBe('embed')
    const [a] = (await connection.admin.listModels()).filter((m) => m.name === 'a')
    await connection.admin.startModel(a!.id)
    expect(engines('a')).toBe(1)
    const outcome = await quitSequence({
      mode: 'embed',
      behaviour: 'stop-engines',
      activeModels: async () => (await connection.admin.listModels()).filter((m) => m.status.state === 'running'),
      stopModel: async (id) => void (await connection.admin.stopModel(id)),
      closeConnection: () => connection.close(),
      progress: { show: () => {}, close: () => {} },
      stopDeadlineMs: 30_000,
      closeDeadlineMs: 30_000,
      progressAfterMs: 1000,
    })
    expect(outcome).toEqual({ stopped: ['a'], problems: [] })
    expect(engines('a')).toBe(0)
  })
})
