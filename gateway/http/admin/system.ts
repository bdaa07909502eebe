import Type from 'typebox'
import type { GpusResponse, SystemResponse } from '../../contract/index.js'
import type { SystemMonitor } from '../../system/monitor.js'
import type { AdminApp } from './index.js'

const HistoryQuery = Type.Object({ history: Type.Optional(Type.Boolean()) })
const GpusQuery = Type.Object({
  history: Type.Optional(Type.Boolean()),
  /** Epoch ms: the history from then on (implies history). */
  since: Type.Optional(Type.Integer({ minimum: 0 })),
})

/** `/gpus` and `/system`: the latest sample (taken now if the monitor is idle), and with `?history=1` the recent ones;
 *  `/gpus?since=<epoch ms>` only those from then on, so a console draws the last 15 minutes or hour at once. */
export function systemRoutes(app: AdminApp, system: SystemMonitor): void {
  app.get('/gpus', { schema: { querystring: GpusQuery } }, async (req): Promise<GpusResponse> => {
    const { at, gpus, error } = await system.latest()
    const body: GpusResponse = { data: gpus, at, error }
    const { history, since } = req.query
    if (history === true || since !== undefined) {
      body.history = system
        .history()
        .filter((s) => s.at >= (since ?? 0))
        .map((s) => ({ at: s.at, gpus: s.gpus }))
    }
    return body
  })

  app.get('/system', { schema: { querystring: HistoryQuery } }, async (req): Promise<SystemResponse> => {
    const [{ at, host, error }, snapshot, cortex] = await Promise.all([system.latest(), system.snapshot(), system.cortex()])
    const body: SystemResponse = { cortex, snapshot, host, at, error }
    if (req.query.history === true) body.history = system.history().map((s) => ({ at: s.at, host: s.host }))
    return body
  })
}
