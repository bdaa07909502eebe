import { request } from 'undici'
import type { Health } from './driver.js'

const PROBE_TIMEOUT_MS = 2000

const reasonOf = (err: unknown): string => {
  const e = err as { code?: string; message?: string; name?: string }
  return e.code ?? e.name ?? e.message ?? String(err)
}

/** One short GET; `reset` closes the connection so probes do not hold sockets to engines that may die. */
async function get(url: string, signal: AbortSignal, headers: Record<string, string> = {}) {
  return request(url, {
    method: 'GET',
    headers,
    reset: true,
    signal: AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]),
  })
}

/**
 * llama-server and vLLM: `GET /health`. llama-server binds its HTTP port before loading the model and answers
 * 503 `{"error":{"message":"Loading model"}}` until ready (tools/server/server-http.cpp); right after spawn the
 * connection is refused, which is not a failure yet.
 */
export async function probeEngineHealth(root: string, signal: AbortSignal): Promise<Health> {
  try {
    const res = await get(`${root}/health`, signal)
    await res.body.dump()
    if (res.statusCode === 200) return { status: 'ready' }
    if (res.statusCode === 503) return { status: 'loading' }
    return { status: 'down', reason: `HTTP ${res.statusCode}` }
  } catch (err) {
    if (signal.aborted) throw err
    return { status: 'down', reason: reasonOf(err) }
  }
}

export type RemoteHealth = Health | { status: 'unauthorized'; httpStatus: number }

/** OpenAI-compatible remotes: `GET {baseUrl}/models` (lists models, generates nothing). */
export async function probeModels(baseUrl: string, apiKey: string | undefined, signal: AbortSignal): Promise<RemoteHealth> {
  try {
    const res = await get(`${baseUrl.replace(/\/+$/, '')}/models`, signal, apiKey ? { authorization: `Bearer ${apiKey}` } : {})
    await res.body.dump()
    if (res.statusCode >= 200 && res.statusCode < 300) return { status: 'ready' }
    if (res.statusCode === 401 || res.statusCode === 403) return { status: 'unauthorized', httpStatus: res.statusCode }
    return { status: 'down', reason: `HTTP ${res.statusCode}` }
  } catch (err) {
    if (signal.aborted) throw err
    return { status: 'down', reason: reasonOf(err) }
  }
}

/** llama-server's per-slot context: `GET /props` → `default_generation_settings.n_ctx` (tools/server/server-context.cpp). */
export async function readLlamaContextLength(root: string, signal: AbortSignal): Promise<number | null> {
  const res = await get(`${root}/props`, signal)
  if (res.statusCode !== 200) {
    await res.body.dump()
    return null
  }
  const props = (await res.body.json()) as { default_generation_settings?: { n_ctx?: unknown } }
  const n = props.default_generation_settings?.n_ctx
  return typeof n === 'number' && n > 0 ? n : null
}
