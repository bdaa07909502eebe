import { describe, expect, it, vi } from 'vitest'
import { startDesktop, type DesktopShell } from './desktop.js'

function fakeShell(lock: boolean): DesktopShell & { opened: string[]; quits: number } {
  const shell = {
    opened: [] as string[],
    quits: 0,
    requestSingleInstanceLock: () => lock,
    focusWindow: vi.fn(),
    openWindow: (url: string) => void shell.opened.push(url),
    quit: () => void shell.quits++,
  }
  return shell
}

describe('startDesktop', () => {
  it('opens the window on the core it started and closes the core on shutdown', async () => {
    const shell = fakeShell(true)
    const close = vi.fn(async () => {})
    const shutdown = await startDesktop(shell, async () => ({ url: 'http://127.0.0.1:31313', close }))
    expect(shell.opened).toEqual(['http://127.0.0.1:31313'])
    await shutdown?.()
    expect(close).toHaveBeenCalledOnce()
  })

  it('quits without starting a core when another instance holds the lock', async () => {
    const shell = fakeShell(false)
    const startCore = vi.fn()
    expect(await startDesktop(shell, startCore)).toBeNull()
    expect(startCore).not.toHaveBeenCalled()
    expect(shell.quits).toBe(1)
  })
})
