import { register as globalRegistry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import type { UsageRecord } from '../contract/usage.js'
import { parseExposition, seriesOf, valueOf } from './exposition.test-support.js'
import { FakeEngines, FakeSystem } from './fakes.test-support.js'
import { usageRecord } from '../engines/usage.test-support.js'
import { createMetrics, metricsSink, type Metrics } from './registry.js'

const opened: Metrics[] = []
afterEach(() => {
  for (const m of opened.splice(0)) m.close()
})

function setup() {
  const metrics = createMetrics({ engines: new FakeEngines(), system: new FakeSystem() })
  opened.push(metrics)
  const rows: UsageRecord[] = []
  const push = (row: UsageRecord) => void rows.push(row)
  const sink = metricsSink({ record: push, recordGrouped: async (row) => push(row) }, metrics)
  const scrape = async () => parseExposition(await metrics.registry.metrics())
  return { metrics, sink, rows, scrape }
}

describe('metricsSink', () => {
  it('hands a grouped row on and resolves when the inner sink has committed it', async () => {
    const metrics = createMetrics({ engines: new FakeEngines(), system: new FakeSystem() })
    opened.push(metrics)
    let commit!: () => void
    const inner = { record: () => {}, recordGrouped: () => new Promise<void>((r) => (commit = r)) }
    let resolved = false
    const committed = metricsSink(inner, metrics)
      .recordGrouped(usageRecord({}))
      .then(() => (resolved = true))
    await Promise.resolve()
    expect(resolved).toBe(false)
    commit()
    await committed
    expect(resolved).toBe(true)
  })

  it('hands every usage row on unchanged', () => {
    const { sink, rows } = setup()
    const row = usageRecord({ promptTokens: 3 })
    sink.record(row)
    expect(rows).toEqual([row])
    expect(rows[0]).toBe(row)
  })

  it('counts requests by model, endpoint and status', async () => {
    const { sink, scrape } = setup()
    sink.record(usageRecord({ status: 200 }))
    sink.record(usageRecord({ status: 200 }))
    sink.record(usageRecord({ status: 499 }))
    sink.record(usageRecord({ model: 'big', endpoint: '/v1/embeddings', status: 503 }))
    const s = await scrape()
    const key = (model: string, endpoint: string, status: string) => ({ model, endpoint, status })
    expect(valueOf(s, 'cortex_requests_total', key('tiny', '/v1/chat/completions', '200'))).toBe(2)
    expect(valueOf(s, 'cortex_requests_total', key('tiny', '/v1/chat/completions', '499'))).toBe(1)
    expect(valueOf(s, 'cortex_requests_total', key('big', '/v1/embeddings', '503'))).toBe(1)
    expect(seriesOf(s, 'cortex_requests_total')).toHaveLength(3)
  })

  it('counts requests that named a route by route and the target that served, beside the model’s own count', async () => {
    const { sink, scrape } = setup()
    sink.record(usageRecord({ route: 'chat', model: 'big' }))
    sink.record(usageRecord({ route: 'chat', model: 'tiny', status: 503 }))
    sink.record(usageRecord({ route: null }))
    const s = await scrape()
    expect(valueOf(s, 'cortex_route_requests_total', { route: 'chat', model: 'big', status: '200' })).toBe(1)
    expect(valueOf(s, 'cortex_route_requests_total', { route: 'chat', model: 'tiny', status: '503' })).toBe(1)
    expect(seriesOf(s, 'cortex_route_requests_total')).toHaveLength(2)
  })

  it('counts paths it does not know as one endpoint, "other", so clients cannot mint series', async () => {
    const { sink, scrape } = setup()
    for (const endpoint of ['/v1/abc123', '/v1/x/y', '/v1/completions']) sink.record(usageRecord({ endpoint }))
    const s = await scrape()
    expect(seriesOf(s, 'cortex_requests_total').map((x) => x.labels.endpoint)).toEqual(['other', '/v1/completions'])
    expect(valueOf(s, 'cortex_requests_total', { model: 'tiny', endpoint: 'other', status: '200' })).toBe(2)
  })

  it('observes durations and time to first token in seconds, TTFT only where a token was relayed', async () => {
    const { sink, scrape } = setup()
    sink.record(usageRecord({ totalMs: 1500, ttftMs: 40 }))
    sink.record(usageRecord({ totalMs: 300, ttftMs: null, stream: false }))
    const s = await scrape()
    const labels = { model: 'tiny', endpoint: '/v1/chat/completions' }
    expect(valueOf(s, 'cortex_request_duration_seconds_count', labels)).toBe(2)
    expect(valueOf(s, 'cortex_request_duration_seconds_sum', labels)).toBeCloseTo(1.8)
    expect(valueOf(s, 'cortex_request_duration_seconds_bucket', { ...labels, le: '0.5' })).toBe(1)
    expect(valueOf(s, 'cortex_request_duration_seconds_bucket', { ...labels, le: '2.5' })).toBe(2)
    expect(valueOf(s, 'cortex_time_to_first_token_seconds_count', { model: 'tiny' })).toBe(1)
    expect(valueOf(s, 'cortex_time_to_first_token_seconds_sum', { model: 'tiny' })).toBeCloseTo(0.04)
    expect(valueOf(s, 'cortex_time_to_first_token_seconds_bucket', { model: 'tiny', le: '0.025' })).toBe(0)
    expect(valueOf(s, 'cortex_time_to_first_token_seconds_bucket', { model: 'tiny', le: '0.05' })).toBe(1)
  })

  it('adds up prompt and completion tokens; a row without usage or with a bogus figure adds none', async () => {
    const { sink, scrape } = setup()
    sink.record(usageRecord({ promptTokens: 12, completionTokens: 30 }))
    sink.record(usageRecord({ promptTokens: 8, completionTokens: 2 }))
    sink.record(usageRecord({ model: 'big', promptTokens: null, completionTokens: null }))
    expect(() => sink.record(usageRecord({ model: 'big', promptTokens: -5, completionTokens: 0 }))).not.toThrow()
    const s = await scrape()
    expect(valueOf(s, 'cortex_tokens_total', { model: 'tiny', direction: 'prompt' })).toBe(20)
    expect(valueOf(s, 'cortex_tokens_total', { model: 'tiny', direction: 'completion' })).toBe(32)
    expect(seriesOf(s, 'cortex_tokens_total').filter((x) => x.labels.model === 'big')).toEqual([])
  })

  it('observes the queue wait and the gateway overhead when the proxy recorded them', async () => {
    const { sink, scrape } = setup()
    sink.record(usageRecord({ queueMs: 2500, overheadMs: 0.3 }))
    sink.record(usageRecord({ status: 503, queueMs: null, overheadMs: null }))
    const s = await scrape()
    expect(valueOf(s, 'cortex_queue_wait_seconds_count', { model: 'tiny' })).toBe(1)
    expect(valueOf(s, 'cortex_queue_wait_seconds_sum', { model: 'tiny' })).toBeCloseTo(2.5)
    expect(valueOf(s, 'cortex_gateway_overhead_seconds_count')).toBe(1)
    expect(valueOf(s, 'cortex_gateway_overhead_seconds_bucket', { le: '0.00025' })).toBe(0)
    expect(valueOf(s, 'cortex_gateway_overhead_seconds_bucket', { le: '0.0005' })).toBe(1)
  })
})

describe('createMetrics', () => {
  it('gives each core a registry of its own and leaves prom-client’s global one alone', async () => {
    const a = setup()
    const b = setup()
    a.sink.record(usageRecord())
    expect(
      valueOf(await a.scrape(), 'cortex_requests_total', { model: 'tiny', endpoint: '/v1/chat/completions', status: '200' }),
    ).toBe(1)
    expect(seriesOf(await b.scrape(), 'cortex_requests_total')).toEqual([])
    expect(await globalRegistry.metrics()).not.toMatch(/cortex_/)
  })

  it('exposes the process’s CPU and memory under the cortex_ prefix', async () => {
    const s = await setup().scrape()
    expect(valueOf(s, 'cortex_process_cpu_seconds_total')).toBeGreaterThan(0)
    expect(valueOf(s, 'cortex_process_resident_memory_bytes')).toBeGreaterThan(0)
    expect(s.some((x) => x.name.startsWith('process_') || x.name.startsWith('nodejs_'))).toBe(false)
  })

  it('writes text prometheus can read: a HELP and TYPE for each family', async () => {
    const text = await setup().metrics.registry.metrics()
    expect(text).toMatch(/^# HELP cortex_requests_total .+\n# TYPE cortex_requests_total counter$/m)
    expect(text).toMatch(/^# TYPE cortex_request_duration_seconds histogram$/m)
  })
})
