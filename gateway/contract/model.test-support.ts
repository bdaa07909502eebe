import type { ModelDefinition, ModelStatus } from './model.js'

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

/** The status of a model: stopped, no replicas, no failure, unless `overrides` say otherwise. */
export function modelStatusOf(
  def: Pick<ModelDefinition, 'id' | 'name' | 'aliases' | 'engine' | 'runtime' | 'pinned'>,
  overrides: Partial<ModelStatus> = {},
): ModelStatus {
  const { id, name, aliases, engine, runtime, pinned } = def
  return {
    ...{ id, name, aliases, engine, runtime, pinned },
    state: 'stopped',
    replicas: [],
    queued: 0,
    contextLength: null,
    diagnosis: null,
    consecutiveFailures: 0,
    retryAt: null,
    lastUsedAt: null,
    startingSince: null,
    lastStartMs: null,
    ...overrides,
  }
}
