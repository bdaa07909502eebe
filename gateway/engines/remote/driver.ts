import type { ModelDefinition } from '../../contract/index.js'
import { diagnoseRemoteRejected } from '../diagnose.js'
import type { Driver, ExitInfo } from '../driver.js'
import { probeModels } from '../health.js'

export interface RemoteDriverOptions {
  def: ModelDefinition
  /** Health check interval while running; an unhealthy remote is taken out of routing and re-polled. */
  checkMs?: number
}

/** Existing endpoints: nothing to run, one replica per base URL, health = `GET {baseUrl}/models`. */
export function createRemoteDriver({ def, checkMs = 5000 }: RemoteDriverOptions): Driver {
  return {
    runningCheckMs: checkMs,
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
