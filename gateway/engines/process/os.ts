import { constants } from 'node:fs'
import { access } from 'node:fs/promises'
import { createServer } from 'node:net'
import { delimiter, isAbsolute, join } from 'node:path'

/** A port the kernel just handed out on 127.0.0.1. It is free now, not reserved: the engine may still lose it
 *  to another process before binding, which the replica handles by retrying once with a new port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close((err) => (err ? reject(err) : resolve(port)))
    })
  })
}

/** An executable: an absolute path as is, a bare name looked up on PATH. Null when there is none. */
export async function findExecutable(nameOrPath: string, pathEnv = process.env.PATH ?? ''): Promise<string | null> {
  const candidates = isAbsolute(nameOrPath)
    ? [nameOrPath]
    : pathEnv
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, nameOrPath))
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK)
      return c
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'EACCES') throw err
    }
  }
  return null
}
