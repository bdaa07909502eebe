import type { ApiKeyRecord, KeyLimits } from '../contract/keys.js'
import type { NewKey } from './types.js'

export const NO_LIMITS: KeyLimits = { rpm: null, tpm: null, concurrency: null, dailyTokens: null }

/** A key to create as `cortex keys create --name ci` would make it: default scopes, no limits, no expiry. */
export function newKey(overrides: Partial<NewKey> = {}): NewKey {
  return {
    name: 'ci',
    orgId: null,
    userId: null,
    models: null,
    scopes: ['inference', 'embeddings'],
    limits: NO_LIMITS,
    ips: null,
    tags: [],
    expiresAt: null,
    ...overrides,
  }
}

/** A stored key with every scope, for suites that need a record without a repo. */
export function keyRecord(overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  const { secret: _, ...spec } = newKey({ scopes: ['inference', 'embeddings', 'admin:read'] })
  return { ...spec, id: 'key_1', hash: 'h', prefix: 'sk-cortex-xxxx…', createdAt: 0, revokedAt: null, ...overrides }
}
