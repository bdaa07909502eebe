import type { ModelView } from '../../../gateway/contract/index.js'

/** A model as the admin API shows it, stopped unless `over` says otherwise. */
export function modelView(id: string, over: Partial<ModelView['status']> = {}, def: Partial<ModelView> = {}): ModelView {
  return {
    id,
    name: id,
    aliases: [],
    engine: 'llamacpp',
    runtime: 'process',
    source: `/models/${id}.gguf`,
    args: [],
    env: {},
    replicas: 1,
    ttlMs: 600_000,
    pinned: false,
    queue: { size: 16, timeoutMs: 30_000 },
    startTimeoutMs: 120_000,
    gpus: 'all',
    baseUrls: [],
    origin: 'api',
    hasApiKey: false,
    ...def,
    status: {
      id,
      name: id,
      aliases: [],
      engine: 'llamacpp',
      runtime: 'process',
      state: 'stopped',
      replicas: [],
      queued: 0,
      contextLength: null,
      diagnosis: null,
      consecutiveFailures: 0,
      retryAt: null,
      lastUsedAt: null,
      pinned: false,
      startingSince: null,
      lastStartMs: null,
      ...over,
    },
  }
}
