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
    deps.progress.close()
  }
  return outcome
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
    deps.progress.show(text())
  }, deps.progressAfterMs)
  const stops = models.map(async (m) => {
    try {
      await deps.stopModel(m.id)
      outcome.stopped.push(m.name)
    } catch (err) {
      outcome.problems.push(`stopping ${m.name} failed: ${(err as Error).message}`)
    }
    left.delete(m.name)
    if (shown && left.size > 0) deps.progress.show(text())
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
