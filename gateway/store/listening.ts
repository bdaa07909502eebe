import fs from 'node:fs'
import path from 'node:path'
import { isAlive } from './lock.js'

/** `<dataDir>/cortex.listen.json`: where the `cortex serve` of this data directory listens, for clients to find it. */
export const LISTEN_FILE = 'cortex.listen.json'

export interface Listening {
  pid: number
  /** e.g. http://127.0.0.1:31313 */
  url: string
  /** Epoch ms. */
  startedAt: number
}

/** A server bound to every address is reached on loopback; IPv6 literals go in brackets. */
export function connectHost(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1')
  if (bare === '0.0.0.0') return '127.0.0.1'
  if (bare === '::') return '[::1]'
  return bare.includes(':') ? `[${bare}]` : bare
}

/** Records where this process listens; returns the function that removes the record (only while it is still ours). */
export function writeListening(dataDir: string, url: string): () => void {
  const file = path.join(dataDir, LISTEN_FILE)
  const record: Listening = { pid: process.pid, url, startedAt: Date.now() }
  // Written whole then renamed, so a reader never sees half a record.
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, `${JSON.stringify(record)}\n`, { mode: 0o600 })
  fs.renameSync(tmp, file)
  return () => {
    if (readListening(dataDir)?.pid === process.pid) fs.rmSync(file, { force: true })
  }
}

/** The record of a live `cortex serve` of this data directory, or null (none, unreadable, or its process is gone). */
export function readListening(dataDir: string): Listening | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(fs.readFileSync(path.join(dataDir, LISTEN_FILE), 'utf8'))
  } catch {
    return null
  }
  if (typeof parsed !== 'object' || parsed === null) return null
  const { pid, url, startedAt } = parsed as Record<string, unknown>
  if (typeof pid !== 'number' || typeof url !== 'string' || typeof startedAt !== 'number' || !/^https?:\/\//.test(url))
    return null
  return isAlive(pid) ? { pid, url, startedAt } : null
}
