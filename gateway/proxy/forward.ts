import type { Dispatcher } from 'undici'
import { admit, refuse } from './admission.js'
import { Capture } from './cache.js'
import { replay } from './cache-replay.js'
import { relay } from './relay.js'
import { upstreamBody } from './rewrite.js'
import type { Endpoint, Exchange, ProxyContext } from './types.js'
import { send, upstreamError } from './upstream.js'

/**
 * Proxies one inference request: admission (route, limits, a lease on a replica), then forwarding (the body to the
 * engine, the response back as it arrives, one usage record when it ends).
 */
export async function proxy(ctx: ProxyContext, ex: Exchange, endpoint: Endpoint): Promise<void> {
  const t0 = performance.now()
  // The client leaving must stop generation at once: llama-server stops a slot when its connection closes.
  const abort = new AbortController()
  const onClose = () => {
    if (!ex.res.writableEnded) abort.abort(new Error('client closed the connection'))
  }
  if (ex.res.destroyed) onClose()
  else ex.res.on('close', onClose)

  const admitted = await admit(ctx, ex, endpoint, abort.signal, t0)
  if (admitted === null) return
  if ('cached' in admitted) {
    const { fields, asked, flight, cached } = admitted
    const stream = fields.stream === true
    const options = fields.streamOptions as { include_usage?: unknown } | null | undefined
    const hideUsage = endpoint.requestUsage && stream && options?.include_usage !== true
    try {
      await replay(ex, cached, flight, { dialect: endpoint.dialect, asked, stream, hideUsage })
    } finally {
      flight.ticket?.settle(null)
    }
    return
  }
  const { fields, asked, flight, lease } = admitted
  // A remote's own name for the model; through a route, the target's name (an engine knows no route).
  const upstreamModel = lease.target.upstreamModel ?? admitted.viaRoute
  try {
    const { body, hideUsage } = upstreamBody(ex.body, fields, { requestUsage: endpoint.requestUsage, upstreamModel })
    flight.record.overheadMs = admitted.waitFrom - t0 + (performance.now() - admitted.waitUntil)
    let upstream: Dispatcher.ResponseData
    try {
      upstream = await send(ctx.options, ex, lease, body, endpoint, abort.signal, fields.stream === true)
    } catch (err) {
      await refuse(flight, ex, abort.signal, err, upstreamError(err, lease))
      return
    }
    const renameModel = upstreamModel !== undefined && asked !== upstreamModel ? { from: upstreamModel, to: asked } : undefined
    const capture = admitted.cache && new Capture(ctx.cache!, admitted.cache, upstreamModel ?? null, ctx.now ?? Date.now)
    await relay(ex, upstream, flight, { dialect: endpoint.dialect, hideUsage, renameModel, lease, signal: abort.signal, capture })
  } finally {
    lease.release()
    // Only if the request ended some way that recorded nothing: a concurrency slot must never leak.
    flight.ticket?.settle(null)
  }
}
