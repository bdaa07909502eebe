import type { ModelDefinition } from './model.js'

/** A complete, valid llama.cpp process model definition for unit tests; `overrides` replace whole fields. */
export function modelDefinition(overrides: Partial<ModelDefinition> = {}): ModelDefinition {
  return {
    id: 'm1',
    name: 'tiny',
    aliases: [],
    engine: 'llamacpp',
    runtime: 'process',
    source: '/models/tiny.gguf',
    args: [],
    env: {},
    replicas: 1,
    ttlMs: 0,
    pinned: false,
    queue: { size: 4, timeoutMs: 1000 },
    startTimeoutMs: 30_000,
    gpus: 'all',
    baseUrls: [],
    origin: 'config',
    ...overrides,
  }
}
