import { readAdminToken } from '../store/admin-token.js'
import { readListening } from '../store/listening.js'
import { AdminClient } from './admin-client.js'

export interface RunningServer {
  url: string
  pid: number
  /** The admin token of the data directory (CORTEX_ADMIN_TOKEN or `<dataDir>/admin-token`). */
  token: string
}

/**
 * The `cortex serve` of this data directory, if its listen record names a live process that answers `/health` there;
 * else null. The desktop app attaches to it instead of starting a second gateway.
 */
export async function findRunningServer(dataDir: string, env: NodeJS.ProcessEnv): Promise<RunningServer | null> {
  const live = readListening(dataDir)
  if (live === null) return null
  const token = readAdminToken(dataDir, env)
  if (token === null) return null
  const client = new AdminClient(live.url, token)
  try {
    return (await client.health()) === 200 ? { url: live.url, pid: live.pid, token } : null
  } catch {
    // The record's process lives, but nothing answers there (still starting, or the pid was reused).
    return null
  } finally {
    await client.close()
  }
}
