import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { makeDataDir } from './data-dir.js'

export const ADMIN_TOKEN_FILE = 'admin-token'

export interface LoadAdminTokenOptions {
  dataDir: string
  env: Record<string, string | undefined>
  /** Says something to the person who started Cortex; the caller writes it on stderr, never through the logger. */
  announce: (message: string) => void
}

/**
 * The admin API's token: CORTEX_ADMIN_TOKEN when set, else `<dataDir>/admin-token`, else a new one written
 * there (mode 0600) and announced once. The file holds the token in plain text so the CLI and Electron can read it.
 */
export function loadAdminToken({ dataDir, env, announce }: LoadAdminTokenOptions): string {
  const fromEnv = env.CORTEX_ADMIN_TOKEN?.trim()
  if (fromEnv) return fromEnv
  const file = path.join(dataDir, ADMIN_TOKEN_FILE)
  const existing = readOwnTokenFile(file, announce)
  if (existing !== null) return existing
  makeDataDir(dataDir)
  const created = createTokenFile(file)
  // Another process may have created it first: theirs is the token, and they announced it.
  if (created === null) return readOwnTokenFile(file, announce) ?? emptyFile(file)
  announce(
    `Cortex created an admin token in ${file} (mode 0600).\n` +
      `Send it as "Authorization: Bearer <token>" to /admin/api, e.g. curl -H "Authorization: Bearer $(cat '${file}')" …/admin/api/models\n` +
      `The cortex CLI reads it from there; set CORTEX_ADMIN_TOKEN to use a token of your own instead.`,
  )
  return created
}

/** For clients (the CLI): the token from CORTEX_ADMIN_TOKEN or the data directory; null when there is none. */
export function readAdminToken(dataDir: string, env: Record<string, string | undefined>): string | null {
  const fromEnv = env.CORTEX_ADMIN_TOKEN?.trim()
  if (fromEnv) return fromEnv
  try {
    return fs.readFileSync(path.join(dataDir, ADMIN_TOKEN_FILE), 'utf8').trim() || null
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

/** The token in the file, its permissions tightened to 0600 first; null when there is no file. */
function readOwnTokenFile(file: string, announce: (message: string) => void): string | null {
  let fd: number
  try {
    fd = fs.openSync(file, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  try {
    // Windows has no group/other bits to tighten: its ACLs come from the (per-user) data directory.
    const mode = fs.fstatSync(fd).mode & 0o777
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) tighten(fd, file, mode, announce)
    return fs.readFileSync(fd, 'utf8').trim() || emptyFile(file)
  } finally {
    fs.closeSync(fd)
  }
}

function tighten(fd: number, file: string, mode: number, announce: (message: string) => void): void {
  const was = mode.toString(8).padStart(4, '0')
  try {
    fs.fchmodSync(fd, 0o600)
    announce(`Cortex changed the permissions of ${file} from ${was} to 0600: the admin token must be readable only by you.`)
  } catch (err) {
    announce(
      `warning: ${file} has permissions ${was}, so other users may read the admin token, and Cortex could not ` +
        `change them (${(err as Error).message}); run: chmod 600 '${file}'`,
    )
  }
}

/**
 * Writes a new token to a temporary file, then links it into place: readers never see a half-written file,
 * and an existing file is never replaced. Returns null when the file appeared meanwhile.
 */
function createTokenFile(file: string): string | null {
  const token = `ctx_admin_${randomBytes(24).toString('base64url')}`
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  fs.writeFileSync(temp, `${token}\n`, { flag: 'wx', mode: 0o600 })
  try {
    fs.linkSync(temp, file)
    return token
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return null
    throw err
  } finally {
    fs.rmSync(temp, { force: true })
  }
}

function emptyFile(file: string): never {
  throw new Error(
    `the admin token file ${file} is empty; delete it and Cortex will create a new token, or set CORTEX_ADMIN_TOKEN`,
  )
}
