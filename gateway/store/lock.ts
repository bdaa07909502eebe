import fs from 'node:fs'
import path from 'node:path'

/**
 * Takes `<dataDir>/cortex.lock` (created exclusively, holding our pid): one Cortex per data directory.
 * A lock whose pid is dead is stale and taken over. Returns the release function.
 */
/** Locks this process holds: a lock file with our own pid that is not among them was left by an earlier
 *  process that had the same pid (in a container Cortex is often pid 1 after every restart). */
const heldHere = new Set<string>()

export function acquireLock(dataDir: string): () => void {
  const lockPath = path.resolve(dataDir, 'cortex.lock')
  // Two attempts: the second follows removing a stale lock. Two processes taking over the same stale lock
  // at the same instant could both unlink and recreate it; the window is microseconds at start-up.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx', mode: 0o600 })
      heldHere.add(lockPath)
      return () => {
        heldHere.delete(lockPath)
        releaseLock(lockPath)
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const holder = readHolder(lockPath)
    const ours = holder === process.pid
    if (holder !== null && (ours ? heldHere.has(lockPath) : isAlive(holder))) {
      throw new Error(`another Cortex (pid ${holder}) is using the data directory ${dataDir}; stop it or use --data-dir`)
    }
    fs.rmSync(lockPath, { force: true })
  }
  throw new Error(`could not take the lock ${lockPath}: another process keeps recreating it`)
}

/** The pid in the lock file; null when the file is gone or holds no pid (a crash between create and write). */
function readHolder(lockPath: string): number | null {
  let text: string
  try {
    text = fs.readFileSync(lockPath, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  const pid = Number(text.trim())
  return Number.isInteger(pid) && pid > 0 ? pid : null
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Removes the lock only while it is still ours, so a late close never frees another process's lock. */
function releaseLock(lockPath: string): void {
  if (readHolder(lockPath) === process.pid) fs.rmSync(lockPath, { force: true })
}
