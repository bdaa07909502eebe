import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest'
import {
  BRIDGE_FUNCTIONS,
  IPC_CHANNELS,
  type DesktopBridge,
  type DesktopSettings,
  type IpcChannel,
} from '../../gateway/contract/ipc.js'
import { createHandlers, dispatch, validators, type IpcHandlers } from './ipc.js'
import { DEFAULT_SETTINGS, SETTINGS_FILE } from './settings.js'

let userData: string
let applied: DesktopSettings[]
let handlers: IpcHandlers
beforeEach(() => {
  userData = mkdtempSync(path.join(os.tmpdir(), 'cortex-ipc-'))
  applied = []
  handlers = createHandlers({
    connection: { mode: 'attach', url: 'http://127.0.0.1:31313' },
    userData,
    running: () => DEFAULT_SETTINGS,
    applied: async (s) => void applied.push(s),
  })
})
afterEach(() => rmSync(userData, { recursive: true, force: true }))

describe('the IPC contract', () => {
  it('every declared channel is handled, validated and bridged, and nothing else (checked by the type-checker)', () => {
    expectTypeOf<(typeof IPC_CHANNELS)[number]>().toEqualTypeOf<IpcChannel>()
    expectTypeOf<keyof IpcHandlers>().toEqualTypeOf<IpcChannel>()
    expectTypeOf<keyof ReturnType<typeof createHandlers>>().toEqualTypeOf<IpcChannel>()
    expectTypeOf<keyof typeof validators>().toEqualTypeOf<IpcChannel>()
    expectTypeOf<keyof DesktopBridge>().toEqualTypeOf<(typeof BRIDGE_FUNCTIONS)[IpcChannel]>()
    // The same at run time, for the lists the main process registers from.
    expect(Object.keys(handlers).sort()).toEqual([...IPC_CHANNELS].sort())
    expect(Object.keys(validators).sort()).toEqual([...IPC_CHANNELS].sort())
    expect(Object.keys(BRIDGE_FUNCTIONS).sort()).toEqual([...IPC_CHANNELS].sort())
  })

  // Checked by the type-checker, not at run time: `npm run typecheck` (electron/tsconfig.json takes the tests in) fails
  // when either @ts-expect-error below stops being an error.
  it('a handler table missing a declared channel, or with an undeclared one, does not compile (tsc)', () => {
    const all = createHandlers({
      connection: { mode: 'embed', url: '' },
      userData,
      running: () => DEFAULT_SETTINGS,
      applied: async () => {},
    })
    // @ts-expect-error 'desktop:settings' is declared and not handled
    const missing: IpcHandlers = {
      'desktop:connection': all['desktop:connection'],
      'desktop:save-settings': all['desktop:save-settings'],
    }
    // @ts-expect-error 'desktop:shell' is handled and not declared
    const extra: IpcHandlers = { ...all, 'desktop:shell': async () => 'rm -rf' }
    void [missing, extra]
  })
})

describe('dispatch', () => {
  it('refuses a sender that is not the console window, without running the handler', async () => {
    expect(await dispatch('desktop:save-settings', false, DEFAULT_SETTINGS, handlers)).toEqual({
      ok: false,
      error: { code: 'not_console', message: 'desktop:save-settings: the sender is not the Cortex console window' },
    })
    expect(applied).toEqual([])
  })

  it('answers the connection the app runs on', async () => {
    expect(await dispatch('desktop:connection', true, undefined, handlers)).toEqual({
      ok: true,
      value: { mode: 'attach', url: 'http://127.0.0.1:31313' },
    })
  })

  it('refuses arguments a channel does not take and settings that do not validate, saving nothing', async () => {
    expect(await dispatch('desktop:connection', true, { path: '/etc' }, handlers)).toEqual({
      ok: false,
      error: { code: 'invalid_request', message: 'desktop:connection takes no argument' },
    })
    expect(await dispatch('desktop:save-settings', true, { ...DEFAULT_SETTINGS, port: 'http' }, handlers)).toEqual({
      ok: false,
      error: { code: 'invalid_request', message: 'port: expected a whole number from 1 to 65535, got "http"' },
    })
    expect(applied).toEqual([])
  })

  it('saves settings, applies them and says when the port needs a restart', async () => {
    const next = { ...DEFAULT_SETTINGS, port: 4000, startAtLogin: true }
    expect(await dispatch('desktop:save-settings', true, next, handlers)).toEqual({
      ok: true,
      value: { settings: next, problem: null, restartNeeded: true },
    })
    expect(applied).toEqual([next])
    expect(JSON.parse(readFileSync(path.join(userData, SETTINGS_FILE), 'utf8'))).toEqual(next)
    expect(await dispatch('desktop:settings', true, undefined, handlers)).toEqual({
      ok: true,
      value: { settings: next, problem: null, restartNeeded: true },
    })
  })

  it('turns a handler that throws into a failed answer naming the channel', async () => {
    const failing = { ...handlers, 'desktop:settings': async () => Promise.reject(new Error('disk on fire')) }
    expect(await dispatch('desktop:settings', true, undefined, failing)).toEqual({
      ok: false,
      error: { code: 'failed', message: 'desktop:settings: disk on fire' },
    })
  })
})
