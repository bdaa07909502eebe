/**
 * The desktop shell's logic, with Electron behind an interface so it runs and is tested in plain Node.
 * `index.ts` is the only file that imports electron.
 */
export interface DesktopShell {
  /** False when another Cortex window process already holds the single-instance lock. */
  requestSingleInstanceLock(): boolean
  /** Brings the existing window to the front (second launch). */
  focusWindow(): void
  openWindow(url: string): void
  quit(): void
}

export interface RunningCore {
  /** The gateway's address, e.g. http://127.0.0.1:31313 */
  url: string
  close(): Promise<void>
}

/** Starts the core and opens the window on it; returns the shutdown to run on quit, or null when another instance owns the app. */
export async function startDesktop(
  shell: DesktopShell,
  startCore: () => Promise<RunningCore>,
): Promise<(() => Promise<void>) | null> {
  if (!shell.requestSingleInstanceLock()) {
    shell.quit()
    return null
  }
  const core = await startCore()
  shell.openWindow(core.url)
  return () => core.close()
}
