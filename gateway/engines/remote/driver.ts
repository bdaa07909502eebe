import type { ModelDefinition } from '../../contract/index.js'
import { diagnoseRemoteRejected } from '../diagnose.js'
import type { Driver, ExitInfo } from '../driver.js'
import { probeModels } from '../health.js'

export interface RemoteDriverOptions {
  def: ModelDefinition
  /** Health check interval while running; an unhealthy remote is taken out of routing and re-polled. */
  checkMs?: number
  /**
   * A start fails as `remote_unreachable` after 3 `down` probes in a row spanning at least this long, whichever is
   * later: a server mid-restart gets a few seconds, and a client learns in ~5 s (~7 s when probes time out at 2 s)
   * instead of waiting out the cold-start wait. Then the restart rule's backoff re-polls it.
   */
  unreachableMs?: number
}

/** Existing endpoints: nothing to run, one replica per base URL, health = `GET {baseUrl}/models`. */
export function createRemoteDriver({ def, checkMs = 5000, unreachableMs = 5000 }: RemoteDriverOptions): Driver {
  return {
    runningCheckMs: checkMs,
    unreachableAfter: { probes: 3, ms: unreachableMs },
    async probe(url, signal) {
      const h = await probeModels(url, def.apiKey, signal)
      return h.status === 'unauthorized' ? { status: 'rejected', diagnosis: diagnoseRemoteRejected(def, url, h.httpStatus) } : h
    },
    async start(ctx) {
      const url = def.baseUrls[ctx.replica]
      if (!url) throw new Error(`model "${def.name}" has no baseUrl for replica ${ctx.replica}`)
      let gone!: (e: ExitInfo) => void
      const exited = new Promise<ExitInfo>((resolve) => (gone = resolve))
      return {
        url,
        exited,
        async stop() {
          gone({ code: null, signal: null })
        },
      }
    },
  }
}
