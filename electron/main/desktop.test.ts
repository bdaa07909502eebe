import { describe, expect, it } from 'vitest'
import { modelView } from '../../gateway/contract/admin.test-support.js'
import type { AdminEvent } from '../../gateway/contract/admin.js'
import type { AdminClient } from '../../gateway/index.js'
import type { Connection } from './connect.js'
import { startController, type DesktopShell } from './desktop.js'
import type { DesktopNotification } from './notifications.js'
import { DEFAULT_SETTINGS } from './settings.js'
import type { TrayItem } from './tray-menu.js'

/** An admin API whose events stream the test drives: `emit` sends, `drop` breaks the stream (the gateway went away). */
function fakeAdmin() {
  const calls: string[] = []
  let emit: (e: AdminEvent) => void = () => {}
  let drop: (err: Error) => void = () => {}
  let opened = 0
  const admin = {
    followEvents: (onEvent: (e: AdminEvent) => void, signal: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        opened++
        emit = onEvent
        drop = reject
        signal.addEventListener('abort', () => resolve(), { once: true })
      }),
    paused: async () => ({ paused: false }),
    setPaused: async (paused: boolean) => (calls.push(`paused ${paused}`), { paused }),
    switchModel: async (id: string) => void calls.push(`switch ${id}`),
    startModel: async (id: string) => void calls.push(`start ${id}`),
    stopModel: async (id: string) => {
      throw new Error(`no model has id "${id}"`)
    },
    pinModel: async (id: string, pinned: boolean) => void calls.push(`pin ${id} ${pinned}`),
    createKey: async (body: { name: string }) => (
      calls.push(`key ${body.name}`),
      { key: 'sk-cortex-new', apiKey: { prefix: 'sk-cortex-ne' } }
    ),
  }
  return {
    calls,
    opened: () => opened,
    emit: (e: AdminEvent) => emit(e),
    drop: (err: Error) => drop(err),
    connection: {
      mode: 'embed',
      url: 'http://127.0.0.1:31313',
      admin: admin as unknown as AdminClient,
      close: async () => {},
    } satisfies Connection,
  }
}

function shell() {
  const trays: Array<{ menu: TrayItem[]; icon: string }> = []
  const notes: DesktopNotification[] = []
  const copied: string[] = []
  const reports: string[] = []
  const s: DesktopShell = {
    setTray: (menu, icon) => void trays.push({ menu, icon }),
    notify: (n) => void notes.push(n),
    copy: (t) => void copied.push(t),
    showConsole: () => {},
    quit: () => {},
    settings: () => DEFAULT_SETTINGS,
    changeSettings: async () => {},
    updateReady: () => '0.2.0',
    installUpdate: () => void copied.push('installing'),
    report: (title, message) => void reports.push(`${title}: ${message}`),
  }
  return { s, trays, notes, copied, reports }
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms))
const labels = (menu: TrayItem[]) => menu.filter((i) => i.id?.startsWith('model:')).map((i) => i.label)
const snapshot = (state: 'stopped' | 'running' = 'stopped'): AdminEvent => ({
  type: 'snapshot',
  models: [modelView({ id: 'q', name: 'qwen' }, { state })],
  docker: { available: false, message: null },
})

describe('startController', () => {
  it('shows "not connected" until the snapshot, then the models; rebuilds once for a burst', async () => {
    const admin = fakeAdmin()
    const ui = shell()
    const controller = startController(admin.connection, ui.s, { retryMs: 10 })
    expect(labels(controller.menu())).toEqual([])
    expect(ui.trays).toHaveLength(1)
    admin.emit(snapshot())
    for (const state of ['starting', 'loading'] as const)
      admin.emit({ type: 'model_state', id: 'q', name: 'qwen', state, reason: 'requested' })
    await tick(200)
    expect(labels(controller.menu())).toEqual(['qwen — loading 0:00'])
    expect(ui.trays.at(-1)!.icon).toBe('loading')
    expect(ui.trays.length).toBeLessThanOrEqual(3)
    await controller.close()
  })

  it('notifies when a load ends, and reconnects after the stream breaks', async () => {
    const admin = fakeAdmin()
    const ui = shell()
    const controller = startController(admin.connection, ui.s, { retryMs: 10 })
    admin.emit(snapshot())
    admin.emit({ type: 'model_state', id: 'q', name: 'qwen', state: 'loading', reason: 'requested' })
    admin.emit({ type: 'model_state', id: 'q', name: 'qwen', state: 'running', reason: 'requested' })
    expect(ui.notes.map((n) => n.title)).toEqual(['qwen is ready'])
    admin.drop(new Error('socket hang up'))
    await tick(200)
    expect(controller.models().models).toBeNull()
    expect(controller.menu().map((i) => i.label)).toContain('Not connected to the gateway — retrying…')
    expect(admin.opened()).toBe(2)
    admin.emit(snapshot('running'))
    await tick(200)
    expect(labels(controller.menu())).toEqual(['qwen — running'])
    await controller.close()
  })

  it('carries out the tray actions on the admin API, and reports a failure instead of throwing', async () => {
    const admin = fakeAdmin()
    const ui = shell()
    const controller = startController(admin.connection, ui.s, { now: () => Date.UTC(2026, 0, 2, 3, 4), retryMs: 10 })
    admin.emit(snapshot())
    await controller.handle({ type: 'switch', id: 'q' })
    await controller.handle({ type: 'start', id: 'q' })
    await controller.handle({ type: 'pin', id: 'q', pinned: true })
    await controller.handle({ type: 'pause', paused: true })
    await controller.handle({ type: 'new-key' })
    await controller.handle({ type: 'copy-base-url' })
    await controller.handle({ type: 'stop', id: 'q' })
    await controller.handle({ type: 'install-update' })
    expect(admin.calls).toEqual(['switch q', 'start q', 'pin q true', 'paused true', 'key desktop 2026-01-02T03:04'])
    expect(ui.copied).toEqual(['sk-cortex-new', 'http://127.0.0.1:31313/v1', 'installing'])
    expect(ui.reports).toEqual(['Stopping qwen failed: no model has id "q"'])
    await tick(200)
    expect(controller.menu()[1]).toEqual({ label: 'Serving /v1 is paused', enabled: false })
    await controller.close()
  })
})
