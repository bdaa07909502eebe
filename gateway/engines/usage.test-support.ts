import type { UsageRecord } from '../contract/usage.js'

/** A finished chat request's usage row; overrides set what a suite looks at. */
export function usageRecord(overrides: Partial<UsageRecord> = {}): UsageRecord {
  return {
    ts: 0,
    requestId: 'req-1',
    keyId: null,
    orgId: null,
    model: 'tiny',
    route: null,
    replica: 0,
    endpoint: '/v1/chat/completions',
    status: 200,
    stream: true,
    promptTokens: null,
    completionTokens: null,
    ttftMs: null,
    totalMs: 0,
    queueMs: null,
    overheadMs: null,
    bytesIn: 0,
    bytesOut: 0,
    ...overrides,
  }
}
