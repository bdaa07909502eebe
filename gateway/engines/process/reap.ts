import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import type { EngineProcessRecord, PidRepo } from '../../store/types.js'

const POLL_MS = 100

/** argv of a live process from /proc, or null when the PID is gone or a zombie (whose cmdline is empty). */
async function cmdlineOf(pid: number): Promise<string[] | null> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8')
    if (raw === '') return null
    return raw.replace(/\0$/, '').split('\0')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ESRCH') return null
    throw err
  }
}

const sameCommand = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i])

async function waitGone(rec: EngineProcessRecord, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += POLL_MS) {
    const argv = await cmdlineOf(rec.pid)
    if (!argv || !sameCommand(argv, rec.command)) return true
    await sleep(POLL_MS)
  }
  return false
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
  }
}

/**
 * Ends engine processes a killed Cortex left behind, then forgets every record. A PID is only signalled while
 * /proc/<pid>/cmdline still equals the recorded argv: PIDs are recycled, and another program must never be killed.
 */
export async function reapLeftovers(pids: PidRepo, logger: Logger, graceMs = 5000): Promise<void> {
  const records = pids.list()
  if (records.length === 0) return
  if (process.platform !== 'linux') {
    logger.warn({ count: records.length }, 'cannot check leftover engine processes without /proc: not reaping them')
  } else {
    await Promise.all(
      records.map(async (rec) => {
        const argv = await cmdlineOf(rec.pid)
        if (!argv || !sameCommand(argv, rec.command)) return
        logger.warn({ pid: rec.pid, modelId: rec.modelId, replica: rec.replica }, 'stopping a leftover engine process')
        signal(rec.pid, 'SIGTERM')
        if (await waitGone(rec, graceMs)) return
        signal(rec.pid, 'SIGKILL')
        if (!(await waitGone(rec, graceMs))) logger.error({ pid: rec.pid }, 'leftover engine process survived SIGKILL')
      }),
    )
  }
  for (const rec of records) pids.remove(rec.pid)
}
