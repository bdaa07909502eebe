import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GpuSample } from '../contract/index.js'
import { parseFamilies, scrapeEngines } from './engines.js'
import { llamaServerMetrics, startVllmStandin, type Standin } from './engines.test-support.js'
import { FakeEngines, FakeSystem, modelStatus } from './fakes.test-support.js'
import { usageRecord } from '../engines/usage.test-support.js'
import { createMetrics } from './registry.js'

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../resources/grafana/cortex.json')

interface Target {
  expr: string
  datasource: unknown
}
interface Panel {
  id: number
  type: string
  title: string
  datasource?: unknown
  targets?: Target[]
}
interface Dashboard {
  schemaVersion: number
  uid: string
  panels: Panel[]
  templating: { list: Array<{ name: string; type: string; query: string | { query: string }; datasource?: unknown }> }
}

const dashboard = JSON.parse(readFileSync(file, 'utf8')) as Dashboard
const targets = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })))
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' }

// Words of PromQL that look like names but are operators and modifiers.
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset'])

/** The series names a PromQL expression reads: identifiers left once strings, matchers, ranges and label lists are gone,
 *  less functions (followed by a parenthesis) and keywords. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
  return [...bare.matchAll(/(?<![\w:.$])[a-zA-Z_:][\w:]*/g)]
    .filter((m) => !/^\s*\(/.test(bare.slice(m.index + m[0].length)))
    .map((m) => m[0])
    .filter((name) => !KEYWORDS.has(name))
}

const variableQuery = (v: Dashboard['templating']['list'][number]) => (typeof v.query === 'string' ? v.query : v.query.query)

/** What Cortex serves: the registry with one model, one GPU and one request of each kind seen, then the engines'. */
async function servedSeries(standin: Standin): Promise<{ samples: Set<string>; families: string[] }> {
  const engines = new FakeEngines()
  engines.models = [modelStatus('tiny', 'running')]
  const gpu: GpuSample = {
    index: 0,
    uuid: 'GPU-1',
    name: 'NVIDIA H100 80GB HBM3',
    memoryTotalBytes: 80 * 2 ** 30,
    memoryUsedBytes: 2 ** 30,
    memoryFreeBytes: 79 * 2 ** 30,
    utilizationPercent: 50,
    temperatureC: 40,
    powerDrawW: 300,
    powerLimitW: 700,
    processes: null,
  }
  const metrics = createMetrics({ engines, system: new FakeSystem([gpu]), cache: { bytes: () => 4096 } })
  metrics.observe(
    usageRecord({
      promptTokens: 3,
      completionTokens: 4,
      ttftMs: 10,
      queueMs: 1,
      overheadMs: 0.2,
      totalMs: 50,
      cache: 'hit',
      route: 'chat',
    }),
  )
  metrics.refused('rpm')
  const own = await metrics.registry.metrics()
  metrics.close()

  const llama = createServer((_req, res) => res.end(llamaServerMetrics()))
  await new Promise<void>((resolve) => llama.listen(0, '127.0.0.1', resolve))
  const llamaUrl = `http://127.0.0.1:${(llama.address() as AddressInfo).port}`
  const theirs = await scrapeEngines([
    modelStatus('tiny', 'running', [{ url: llamaUrl }]),
    { ...modelStatus('qwen', 'running', [{ url: standin.url }]), engine: 'vllm', runtime: 'docker' },
  ])
  llama.closeAllConnections()
  await new Promise((resolve) => llama.close(resolve))

  const ownFamilies = parseFamilies(own)
  const all = [...ownFamilies, ...parseFamilies(theirs)]
  return { samples: new Set(all.flatMap((f) => f.samples.map((s) => s.name))), families: ownFamilies.map((f) => f.name) }
}

describe('resources/grafana/cortex.json', () => {
  let standin: Standin
  let served: { samples: Set<string>; families: string[] }
  beforeAll(async () => {
    standin = await startVllmStandin()
    served = await servedSeries(standin)
  })
  afterAll(() => standin.stop())

  it('reads only series that Cortex and its engines serve, so a renamed series breaks it', () => {
    const used = [
      ...targets.flatMap((t) => metricNames(t.expr).map((name) => ({ where: t.panel, name }))),
      ...dashboard.templating.list.flatMap((v) =>
        [...variableQuery(v).matchAll(/label_values\(\s*([a-zA-Z_:][\w:]*)/g)].map((m) => ({ where: `$${v.name}`, name: m[1]! })),
      ),
    ]
    expect(used.length).toBeGreaterThan(40)
    // A label or function taken for a series name would show here, rather than pass unchecked.
    for (const { where, name } of used) expect(name, where).toMatch(/^(cortex_|llamacpp:|vllm:)/)
    const missing = used.filter(({ name }) => !served.samples.has(name))
    expect(missing).toEqual([])
  })

  it('has a panel for every series Cortex defines (Node’s default ones aside)', () => {
    const text = targets.map((t) => t.expr).join('\n')
    const own = served.families.filter((name) => !/^cortex_(process|nodejs)_/.test(name))
    expect(own.length).toBeGreaterThan(10)
    expect(own.filter((name) => !new RegExp(`\\b${name}(_bucket)?\\b`).test(text))).toEqual([])
  })

  it('queries the chosen Prometheus data source, and lists models from cortex_requests_total', () => {
    expect(dashboard.schemaVersion).toBe(39)
    const [datasource, model] = dashboard.templating.list
    expect(datasource).toMatchObject({ name: 'datasource', type: 'datasource', query: 'prometheus' })
    expect(model).toMatchObject({ name: 'model', type: 'query', datasource: DATASOURCE })
    expect(variableQuery(model!)).toBe('label_values(cortex_requests_total, model)')
    for (const p of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(p.datasource, p.title).toEqual(DATASOURCE)
      expect(p.targets?.length, p.title).toBeGreaterThan(0)
      for (const t of p.targets!) expect(t.datasource, p.title).toEqual(DATASOURCE)
    }
    const ids = dashboard.panels.map((p) => p.id)
    expect(new Set(ids).size).toBe(ids.length)
  })
})

describe('metricNames', () => {
  it('finds the series of an expression, not its functions, labels, keywords or variables', () => {
    const expr =
      'histogram_quantile(0.99, sum by (le, model) (rate(a_bucket{model=~"$model", x="y(z)"}[$__rate_interval])))' +
      ' / on (model) group_left (state) max without (gpu) (b:c or d == bool 1e3) offset 5m'
    expect(metricNames(expr)).toEqual(['a_bucket', 'b:c', 'd'])
  })
})
