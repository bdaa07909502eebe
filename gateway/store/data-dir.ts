import fs from 'node:fs'

/**
 * Creates the data directory (mode 0700) if it is missing. A path that is a file, or under one, is refused saying
 * so, instead of mkdir's bare EEXIST / ENOTDIR.
 */
export function makeDataDir(dataDir: string): void {
  try {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST' || code === 'ENOTDIR') {
      const what = code === 'EEXIST' ? 'is a file' : 'is under a file'
      throw new Error(`the data directory ${dataDir} ${what}, not a folder: give --data-dir a folder (it is made if missing)`, {
        cause: err,
      })
    }
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new Error(`cannot make the data directory ${dataDir} (${code}): give --data-dir a folder you may write to`, {
        cause: err,
      })
    }
    throw err
  }
}
