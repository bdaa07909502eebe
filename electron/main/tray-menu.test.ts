import { existsSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { modelView } from '../../gateway/contract/admin.test-support.js'
import { DEFAULT_SETTINGS } from './settings.js'
import {
  formatElapsed,
  toElectronMenu,
  trayIconFile,
  trayIconState,
  trayMenu,
  type TrayInput,
  type TrayItem,
} from './tray-menu.js'

const NOW = 1_700_000_000_000
const input = (over: Partial<TrayInput> = {}): TrayInput => ({
  mode: 'embed',
  url: 'http://127.0.0.1:31313',
  models: [],
  gpuBytes: null,
  paused: false,
  settings: DEFAULT_SETTINGS,
  updateReady: null,
  now: NOW,
  ...over,
})
const labels = (items: TrayItem[]) => items.map((i) => (i.type === 'separator' ? '---' : i.label))
const modelEntries = (items: TrayItem[]) => items.filter((i) => i.id?.startsWith('model:'))

const qwen = modelView({ id: 'm1', name: 'qwen' }, { state: 'running' })
const llama = modelView({ id: 'm2', name: 'llama' })

describe('trayMenu', () => {
  it('lists the models by name with their state and GPU memory; clicking one switches to it', () => {
    const items = trayMenu(input({ models: [qwen, llama], gpuBytes: new Map([['m1', 4.25 * 2 ** 30]]) }))
    expect(modelEntries(items)).toEqual([
      { id: 'model:m2', label: 'llama — stopped', type: 'checkbox', checked: false, action: { type: 'switch', id: 'm2' } },
      {
        id: 'model:m1',
        label: 'qwen — running · 4.3 GiB',
        type: 'checkbox',
        checked: true,
        action: { type: 'switch', id: 'm1' },
      },
    ])
  })

  it('shows the load phase and elapsed time of a model starting or loading', () => {
    const loading = modelView({ id: 'm3', name: 'big' }, { state: 'loading', startingSince: NOW - 95_000 })
    const starting = modelView({ id: 'm4', name: 'cold' }, { state: 'starting', startingSince: NOW - 3_000 })
    expect(labels(modelEntries(trayMenu(input({ models: [loading, starting] }))))).toEqual([
      'big — loading 1:35',
      'cold — starting 0:03',
    ])
  })

  it('names the cause of a failed start, and marks pinned models', () => {
    const failed = modelView(
      { id: 'm5', name: 'broken' },
      { state: 'failed', diagnosis: { cause: 'out_of_memory', message: 'needs more', exitCode: 1, logTail: [] } },
    )
    const pinned = modelView({ id: 'm6', name: 'kept', pinned: true }, { state: 'running' })
    expect(labels(modelEntries(trayMenu(input({ models: [failed, pinned] }))))).toEqual([
      'broken — failed: out_of_memory',
      'kept — running · pinned',
    ])
  })

  it('offers start, stop and pin per model, enabled by state', () => {
    const items = trayMenu(input({ models: [qwen, llama] }))
    const manage = items.find((i) => i.label === 'Start, Stop, Pin')!
    expect(manage.submenu!.map((m) => m.label)).toEqual(['llama', 'qwen'])
    const [forLlama, forQwen] = manage.submenu!.map((m) => m.submenu!)
    expect(forLlama!.map((i) => [i.label, i.enabled ?? true, i.action])).toEqual([
      ['Start', true, { type: 'start', id: 'm2' }],
      ['Stop', false, { type: 'stop', id: 'm2' }],
      ['Pinned (never stopped for idleness, eviction or a switch)', true, { type: 'pin', id: 'm2', pinned: true }],
    ])
    expect(forQwen!.map((i) => i.enabled ?? true)).toEqual([false, true, true])
  })

  it('in embed mode: the gateway it runs, the actions, and Quit Cortex', () => {
    expect(labels(trayMenu(input({ models: [llama] })))).toEqual([
      'Cortex — gateway on 127.0.0.1:31313',
      '---',
      'Models (click one to switch to it)',
      'llama — stopped',
      'Start, Stop, Pin',
      '---',
      'Open Console',
      'Copy API Base URL (http://127.0.0.1:31313/v1)',
      'New API Key (copied to the clipboard)',
      'Pause Serving /v1',
      'Settings',
      '---',
      'Quit Cortex',
    ])
  })

  it('in attach mode says so, and Quit says the server keeps running', () => {
    const items = trayMenu(input({ mode: 'attach', url: 'http://127.0.0.1:4000' }))
    expect(items[0]!.label).toBe('Cortex — attached to cortex serve on 127.0.0.1:4000')
    expect(items.at(-1)).toEqual({ label: 'Quit (cortex serve keeps running)', action: { type: 'quit' } })
  })

  it('offers the desktop settings; the quit behaviour only where the gateway is the app’s own', () => {
    const settingsOf = (over: Partial<TrayInput>) => trayMenu(input(over)).find((i) => i.label === 'Settings')!.submenu!
    expect(settingsOf({ settings: { ...DEFAULT_SETTINGS, startAtLogin: true } })).toEqual([
      { label: 'Start at Login', type: 'checkbox', checked: true, action: { type: 'settings', change: { startAtLogin: false } } },
      {
        label: 'Start Hidden in the Tray at Login',
        type: 'checkbox',
        checked: false,
        action: { type: 'settings', change: { startHidden: true } },
      },
      {
        label: 'Stop Running Models on Quit (off: Docker containers keep running)',
        type: 'checkbox',
        checked: true,
        action: { type: 'settings', change: { quit: 'leave-running' } },
      },
      { label: 'Gateway port 31313 (desktop-settings.json)', enabled: false },
    ])
    const attached = settingsOf({ mode: 'attach', settings: { ...DEFAULT_SETTINGS, quit: 'leave-running' } })
    expect(attached[2]).toEqual({ label: "Quit never stops the server's models (attached)", enabled: false })
    const leaving = settingsOf({ settings: { ...DEFAULT_SETTINGS, quit: 'leave-running' } })
    expect(leaving[2]).toMatchObject({ checked: false, action: { type: 'settings', change: { quit: 'stop-engines' } } })
  })

  it('offers to restart into a downloaded update, just above Quit', () => {
    const items = trayMenu(input({ updateReady: '0.2.0' }))
    expect(items.slice(-2)).toEqual([
      { label: 'Restart to Install Cortex 0.2.0', action: { type: 'install-update' } },
      { label: 'Quit Cortex', action: { type: 'quit' } },
    ])
    expect(labels(trayMenu(input())).some((l) => l?.startsWith('Restart'))).toBe(false)
  })

  it('while paused says so and offers Resume', () => {
    const items = trayMenu(input({ paused: true }))
    expect(items[1]).toEqual({ label: 'Serving /v1 is paused', enabled: false })
    expect(items.find((i) => i.action?.type === 'pause')).toEqual({
      label: 'Resume Serving /v1',
      action: { type: 'pause', paused: false },
    })
  })

  it('with no models points to the console, and while disconnected shows no stale states', () => {
    expect(labels(trayMenu(input()))).toContain('No models yet — add one in the console')
    const offline = trayMenu(input({ models: null, paused: true }))
    expect(labels(offline)).not.toContain('Serving /v1 is paused')
    expect(labels(offline)).toContain('Not connected to the gateway — retrying…')
    expect(modelEntries(offline)).toEqual([])
  })
})

describe('trayIconState', () => {
  const m = (state: 'stopped' | 'running' | 'loading' | 'starting' | 'failed' | 'stopping') =>
    modelView({ id: state, name: state }, { state })
  it.each([
    [[], 'idle'],
    [null, 'idle'],
    [[m('stopped')], 'idle'],
    [[m('stopped'), m('running')], 'running'],
    [[m('stopping')], 'running'],
    [[m('running'), m('failed')], 'failed'],
    [[m('failed'), m('loading')], 'loading'],
    [[m('starting')], 'loading'],
  ] as const)('%j → %s', (models, state) => {
    expect(trayIconState(models === null ? null : [...models])).toBe(state)
  })
})

describe('formatElapsed', () => {
  it.each([
    [0, '0:00'],
    [7_900, '0:07'],
    [155_000, '2:35'],
    [3_729_000, '1:02:09'],
    [-5, '0:00'],
  ])('%d ms → %s', (ms, text) => expect(formatElapsed(ms)).toBe(text))
})

describe('trayIconFile', () => {
  it('takes template images on macOS and the taskbar-matching glyph elsewhere, each with its @2x in resources/', () => {
    expect(trayIconFile('loading', 'darwin', true)).toBe('tray/loadingTemplate.png')
    expect(trayIconFile('failed', 'win32', true)).toBe('tray/failed-dark.png')
    expect(trayIconFile('idle', 'linux', false)).toBe('tray/idle-light.png')
    for (const state of ['idle', 'loading', 'running', 'failed'] as const) {
      for (const [platform, dark] of [
        ['darwin', false],
        ['win32', true],
        ['linux', false],
      ] as const) {
        const file = path.resolve('resources', trayIconFile(state, platform, dark))
        expect(existsSync(file), file).toBe(true)
        expect(existsSync(file.replace(/\.png$/, '@2x.png')), file).toBe(true)
      }
    }
  })
})

describe('toElectronMenu', () => {
  it('keeps every item as it is, turning each action into a click that hands it on, in submenus too', () => {
    const items = trayMenu(input({ models: [qwen, llama] }))
    const clicked: unknown[] = []
    const menu = toElectronMenu(items, (a) => clicked.push(a))
    const strip = (list: typeof menu): unknown[] =>
      list.map(({ click, submenu, ...rest }) => ({
        ...rest,
        ...(Array.isArray(submenu) && { submenu: strip(submenu) }),
        click: typeof click,
      }))
    const expected = (list: TrayItem[]): unknown[] =>
      list.map(({ action, submenu, ...rest }) => ({
        ...rest,
        ...(submenu && { submenu: expected(submenu) }),
        click: action ? 'function' : 'undefined',
      }))
    expect(strip(menu)).toEqual(expected(items))
    const entry = menu.find((i) => i.id === 'model:m1')!
    ;(entry.click as () => void)()
    const manage = menu.find((i) => i.label === 'Start, Stop, Pin')!.submenu as typeof menu
    ;((manage[0]!.submenu as typeof menu)[0]!.click as () => void)()
    expect(clicked).toEqual([
      { type: 'switch', id: 'm1' },
      { type: 'start', id: 'm2' },
    ])
  })
})
