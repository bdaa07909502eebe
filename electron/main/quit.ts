import type { DesktopMode, QuitBehaviour } from '../../gateway/contract/ipc.js'

/**
 * What Quit does (issue 13). Attached, the app only lets go of the server: its engines are the server's and keep
 * running. Embedded, the core runs with `engines.stopOnExit: false`, so the setting read at Quit decides: with
 * `stop-engines` every running model is stopped first (progress shown when that takes a while), with `leave-running`
 * Docker containers go on and are adopted at the next start. Closing the core then stops process engines, which never
 * outlive it. Every step has a deadline: a stop that hangs must not keep the app from quitting.
 */

export interface QuitProgress {
  /** Shows or updates the progress text. */
  show(text: string): void
  /** Takes it away (also when it was never shown). */
  close(): void
}

export interface QuitDeps {
  mode: DesktopMode
  behaviour: QuitBehaviour
  /** Names and ids of the models whose engines run or start now. */
  activeModels(): Promise<Array<{ id: string; name: string }>>
  stopModel(id: string): Promise<void>
  /** Attached: closes the client. Embedded: closes the core (process engines stop; detached containers go on). */
  closeConnection(): Promise<void>
  progress: QuitProgress
  /** How long stopping models may take before the app quits anyway. */
  stopDeadlineMs: number
  /** How long closing the connection may take before the app quits anyway. */
  closeDeadlineMs: number
  /** Progress appears only when stopping takes longer than this. */
  progressAfterMs: number
}

export interface QuitOutcome {
  /** Models stopped before closing. */
  stopped: string[]
  /** What did not finish within its deadline or failed, in words; empty when all went to plan. */
  problems: string[]
}

export async function quitSequence(deps: QuitDeps): Promise<QuitOutcome> {
  const outcome: QuitOutcome = { stopped: [], problems: [] }
  try {
    if (deps.mode === 'embed' && deps.behaviour === 'stop-engines') await stopAll(deps, outcome)
    const closed = await withDeadline(deps.closeConnection(), deps.closeDeadlineMs)
    if (closed === 'timeout') outcome.problems.push(`closing the gateway took over ${seconds(deps.closeDeadlineMs)}`)
  } catch (err) {
    outcome.problems.push(`closing the gateway failed: ${(err as Error).message}`)
  } finally {
    progressSafely(outcome, () => deps.progress.close())
  }
  return outcome
}

/** The progress window is a courtesy: if it fails (say the person closed it), the quit goes on without it. */
function progressSafely(outcome: QuitOutcome, step: () => void): void {
  try {
    step()
  } catch (err) {
    outcome.problems.push(`the progress window failed: ${(err as Error).message}`)
  }
}

async function stopAll(deps: QuitDeps, outcome: QuitOutcome): Promise<void> {
  let models: Array<{ id: string; name: string }>
  try {
    models = await deps.activeModels()
  } catch (err) {
    outcome.problems.push(`could not list the running models: ${(err as Error).message}`)
    return
  }
  if (models.length === 0) return
  const left = new Set(models.map((m) => m.name))
  let shown = false
  const text = () =>
    `Stopping ${[...left].join(', ')}… (${models.length - left.size} of ${models.length} stopped; Cortex quits when done)`
  const timer = setTimeout(() => {
    shown = true
    progressSafely(outcome, () => deps.progress.show(text()))
  }, deps.progressAfterMs)
  const stops = models.map(async (m) => {
    try {
      await deps.stopModel(m.id)
      outcome.stopped.push(m.name)
    } catch (err) {
      outcome.problems.push(`stopping ${m.name} failed: ${(err as Error).message}`)
    }
    left.delete(m.name)
    if (shown && left.size > 0) progressSafely(outcome, () => deps.progress.show(text()))
  })
  const done = await withDeadline(Promise.all(stops), deps.stopDeadlineMs)
  clearTimeout(timer)
  if (done === 'timeout')
    outcome.problems.push(`${[...left].join(', ')} did not stop within ${seconds(deps.stopDeadlineMs)}; quitting anyway`)
}

async function withDeadline(work: Promise<unknown>, ms: number): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)))
  try {
    return await Promise.race([work.then(() => 'done' as const), deadline])
  } finally {
    clearTimeout(timer)
  }
}

const seconds = (ms: number) => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`)

export interface QuitGateOptions {
  /** The quit sequence, with whatever else must end before the process does (the tray). */
  run(): Promise<QuitOutcome>
  /** Quits for real (app.quit: before-quit fires again and the gate lets it through). */
  quit(): void
  /** Installs the downloaded update; the updater then quits (electron-updater's quitAndInstall). */
  install(): void
  report(problems: string[]): void
  /** How long to wait for the updater to quit before quitting anyway (a refused install quits nothing). */
  installGraceMs?: number
}

export interface QuitGate {
  /** While true, closing the window closes it instead of hiding it. */
  quitting(): boolean
  /** app's before-quit: holds the first quit until the sequence ends, joins the later ones, lets the last through. */
  beforeQuit(event: { preventDefault(): void }): void
  /** The next quit ends with installing the update instead of a plain quit. */
  installAfterQuit(): void
}

/**
 * Electron's before-quit cannot wait for a promise, so the first quit is prevented while the sequence runs and quits
 * again when it is done; a quit asked meanwhile (the tray, the OS, Cmd-Q twice) joins it. An update installs only
 * after the sequence: electron-updater's quitAndInstall starts the installer (Windows, Linux) or closes every window
 * (macOS) at once, which would leave the gateway's engines running or meet a window that hides instead of closing.
 */
export function createQuitGate(options: QuitGateOptions): QuitGate {
  let phase: 'serving' | 'quitting' | 'done' = 'serving'
  let install = false
  const finish = () => {
    phase = 'done'
    if (!install) return options.quit()
    try {
      options.install()
    } catch (err) {
      options.report([`installing the update failed: ${(err as Error).message}`])
      return options.quit()
    }
    setTimeout(options.quit, options.installGraceMs ?? 10_000).unref()
  }
  return {
    quitting: () => phase !== 'serving',
    beforeQuit: (event) => {
      if (phase === 'done') return
      event.preventDefault()
      if (phase === 'quitting') return
      phase = 'quitting'
      void options
        .run()
        .then(
          (outcome) => outcome.problems.length > 0 && options.report(outcome.problems),
          (err: unknown) => options.report([`the quit sequence failed: ${(err as Error).message}`]),
        )
        .finally(finish)
    },
    installAfterQuit: () => {
      install = true
    },
  }
}
