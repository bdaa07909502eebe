import { createServer, type RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../test/support/substrate.js'
import type { ModelStatus } from '../contract/index.js'
import { addLabels, formatFamilies, mergeFamilies, parseFamilies, scrapeEngines, withEngineSeries } from './engines.js'

/** One exposition with labels added, and several merged: the steps scrapeEngines takes, on text. */
const relabel = (text: string, labels: Record<string, string>) =>
  formatFamilies(mergeFamilies([addLabels(parseFamilies(text), labels)]))
const mergeExpositions = (parts: string[]) => formatFamilies(mergeFamilies(parts.map(parseFamilies)))
import { llamaServerMetrics, startVllmStandin, type Standin } from './engines.test-support.js'
import { parseExposition, valueOf } from './exposition.test-support.js'
import { modelStatus } from './fakes.test-support.js'

// The text format's own example (prometheus.io, "Exposition formats"), less its comment and extra blanks.
const SPEC_EXAMPLE = String.raw`# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"} 3 1395066363000
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9
metric_without_timestamp_and_labels 12.47
# HELP rpc_duration_seconds A summary of the RPC duration in seconds.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320
`

describe('parseFamilies', () => {
  it('reads HELP, TYPE, escaped label values, timestamps, and a summary’s and a histogram’s suffixed samples', () => {
    const families = parseFamilies(SPEC_EXAMPLE)
    expect(families.map((f) => [f.name, f.type, f.samples.length])).toEqual([
      ['http_requests_total', 'counter', 2],
      ['msdos_file_access_time_seconds', undefined, 1],
      ['metric_without_timestamp_and_labels', undefined, 1],
      ['rpc_duration_seconds', 'summary', 3],
      ['http_request_duration_seconds', 'histogram', 4],
    ])
    expect(families[0]!.samples[1]).toEqual({
      name: 'http_requests_total',
      labels: [
        ['method', 'post'],
        ['code', '400'],
      ],
      value: '3',
      timestamp: '1395066363000',
    })
    expect(families[1]!.samples[0]!.labels).toEqual([
      ['path', 'C:\\DIR\\FILE.TXT'],
      ['error', 'Cannot find file:\n"FILE.TXT"'],
    ])
    expect(families[4]!.samples.map((s) => s.name)).toEqual([
      'http_request_duration_seconds_bucket',
      'http_request_duration_seconds_bucket',
      'http_request_duration_seconds_sum',
      'http_request_duration_seconds_count',
    ])
  })

  it('writes back what it read, escapes included', () => {
    expect(formatFamilies(parseFamilies(SPEC_EXAMPLE))).toBe(SPEC_EXAMPLE)
  })

  it('takes blanks in the label set, a trailing comma, CRLF, NaN and Inf in any case, and other comments', () => {
    const text = '# a comment\r\nfoo { a = "1" ,b="2", } 3\r\nbar Nan\r\nbaz -inf\r\n# EOF\r\n'
    expect(formatFamilies(parseFamilies(text))).toBe('foo{a="1",b="2"} 3\nbar Nan\nbaz -inf\n')
  })

  it.each([
    ['an unclosed quote', 'foo{a="b} 1', 'a closing quote'],
    ['an unquoted value', 'foo{a=b} 1', '"""'],
    ['no metric name', '{a="b"} 1', 'a metric name'],
    ['a value that is no number', 'foo NaNa', 'a number'],
    ['a value in hex', 'foo 0x1f', 'a number'],
    ['no value', 'foo{a="b"}', 'a number'],
    ['more after the timestamp', 'foo 1 2 3', 'a timestamp in ms, then the end'],
  ])('throws on %s, naming the line', (_name, line, expected) => {
    expect(() => parseFamilies(`ok 1\n${line}\n`)).toThrow(`line 2, column`)
    expect(() => parseFamilies(`ok 1\n${line}\n`)).toThrow(`expected ${expected}`)
  })
})

describe('relabel', () => {
  it('adds model and replica to every sample of llama-server’s output and changes nothing else', () => {
    const text = llamaServerMetrics()
    const out = relabel(text, { model: 'tiny', replica: '0' })
    expect(out).toBe(text.replace(/^(llamacpp:\w+) /gm, '$1{model="tiny",replica="0"} '))
    expect(out).toContain('\nllamacpp:prompt_tokens_total{model="tiny",replica="0"} 89658\n')
  })

  it('escapes a quote, a backslash and a newline in our values', () => {
    expect(relabel('up 1\n', { model: 'a"b\\c\nd', replica: '0' })).toBe('up{model="a\\"b\\\\c\\nd",replica="0"} 1\n')
  })

  it('renames an engine’s own model label to engine_model, and further if that is taken too', () => {
    expect(relabel('x{model="m"} 1\n', { model: 'tiny', replica: '0' })).toBe('x{model="tiny",replica="0",engine_model="m"} 1\n')
    expect(relabel('x{model="m",engine_model="e",replica="r"} 1\n', { model: 'tiny', replica: '0' })).toBe(
      'x{model="tiny",replica="0",engine_engine_model="m",engine_model="e",engine_replica="r"} 1\n',
    )
  })
})

describe('mergeExpositions', () => {
  it('writes each family once with all its samples together, whichever engine they came from', () => {
    const llama = llamaServerMetrics()
    const merged = mergeExpositions([
      relabel(llama, { model: 'tiny', replica: '0' }),
      relabel(llama.replace(' 89658', ' 12'), { model: 'tiny', replica: '1' }),
      relabel('# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name="q"} 2.0\n', {
        model: 'qwen',
        replica: '0',
      }),
    ])
    expect(merged).toContain(
      [
        '# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed, excluding cached tokens',
        '# TYPE llamacpp:prompt_tokens_total counter',
        'llamacpp:prompt_tokens_total{model="tiny",replica="0"} 89658',
        'llamacpp:prompt_tokens_total{model="tiny",replica="1"} 12',
        '# HELP llamacpp:prompt_tokens_cached_total',
      ].join('\n'),
    )
    expect(merged.match(/^# TYPE /gm)).toHaveLength(16)
    expect(
      merged.endsWith(
        '# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model="qwen",replica="0",model_name="q"} 2.0\n',
      ),
    ).toBe(true)
  })

  it('gathers a family split across parts, with HELP and TYPE from whichever part gave them', () => {
    expect(mergeExpositions(['# TYPE h histogram\nh_bucket{m="a",le="+Inf"} 1\n', '# HELP h Latency.\nh_count{m="b"} 3\n'])).toBe(
      '# HELP h Latency.\n# TYPE h histogram\nh_bucket{m="a",le="+Inf"} 1\nh_count{m="b"} 3\n',
    )
  })
})

describe('scrapeEngines', () => {
  const closers: Array<() => Promise<unknown>> = []
  let standin: Standin
  beforeAll(async () => {
    standin = await startVllmStandin()
  })
  afterAll(() => standin.stop())
  afterEach(async () => {
    for (const close of closers.splice(0)) await close()
  })

  /** An engine root on a port of its own; `hits` counts requests to it. */
  async function engine(handler: RequestListener) {
    const hits = { n: 0 }
    const server = createServer((req, res) => (hits.n++, handler(req, res)))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    closers.push(async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    })
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits }
  }
  const answering = (body: string, status = 200) => engine((_req, res) => res.writeHead(status).end(body))

  it('reads every running replica of local models, leaves out those that fail and says which in cortex_engine_scrape_up', async () => {
    const llama0 = await answering(llamaServerMetrics())
    const llama1 = await answering(llamaServerMetrics().replace(' 89658', ' 12'))
    const loading = await answering(llamaServerMetrics())
    const remote = await answering(llamaServerMetrics())
    const silent = await engine(() => {})
    const huge = await engine((_req, res) => res.end(`${'# padding\n'.repeat(200_000)}up 1\n`))
    const garbage = await answering('<html>no metrics here</html>')
    const unavailable = await answering('{"error":"Loading model"}', 503)
    const dead = `http://127.0.0.1:${await freePort()}`
    const statuses: ModelStatus[] = [
      modelStatus('tiny', 'running', [{ url: llama0.url }, { url: llama1.url }, { url: loading.url, state: 'loading' }]),
      modelStatus('qwen', 'running', [{ url: standin.url }]),
      { ...modelStatus('cloud', 'running', [{ url: remote.url }]), runtime: 'remote' },
      modelStatus('broken', 'running', [{ url: silent.url }, { url: huge.url }, { url: garbage.url }, { url: unavailable.url }]),
      modelStatus('gone', 'running', [{ url: dead }]),
    ]

    const started = Date.now()
    const text = await scrapeEngines(statuses, { timeoutMs: 300, maxBytes: 1024 * 1024 })
    expect(Date.now() - started).toBeLessThan(2000)
    expect([loading.hits.n, remote.hits.n]).toEqual([0, 0])

    const s = parseExposition(text)
    const up = (model: string, replica: string) => valueOf(s, 'cortex_engine_scrape_up', { model, replica })
    expect([up('tiny', '0'), up('tiny', '1'), up('qwen', '0'), up('gone', '0')]).toEqual([1, 1, 1, 0])
    expect(['0', '1', '2', '3'].map((r) => up('broken', r))).toEqual([0, 0, 0, 0])
    expect(up('tiny', '2')).toBeUndefined()
    expect(up('cloud', '0')).toBeUndefined()
    expect(valueOf(s, 'llamacpp:prompt_tokens_total', { model: 'tiny', replica: '0' })).toBe(89658)
    expect(valueOf(s, 'llamacpp:prompt_tokens_total', { model: 'tiny', replica: '1' })).toBe(12)
    expect(valueOf(s, 'vllm:num_requests_running', { model: 'qwen', replica: '0', engine: '0', model_name: 'qwen' })).toBe(0)
    expect(s.filter((x) => x.labels.model === 'broken' || x.labels.model === 'cloud').map((x) => x.name)).toEqual([
      'cortex_engine_scrape_up',
      'cortex_engine_scrape_up',
      'cortex_engine_scrape_up',
      'cortex_engine_scrape_up',
    ])

    // What Prometheus needs of the result, read back by this parser and by the suites' own, independent one.
    const families = parseFamilies(text)
    const names = families.map((f) => f.name)
    expect(new Set(names).size).toBe(names.length)
    expect(names).toEqual(expect.arrayContaining(['llamacpp:tokens_predicted_total', 'vllm:gpu_cache_usage_perc']))
    expect(families.every((f) => f.type !== undefined && f.help !== undefined)).toBe(true)
    for (const x of s) expect(Object.keys(x.labels).slice(0, 2), x.name).toEqual(['model', 'replica'])
    expect(s).toHaveLength(families.reduce((n, f) => n + f.samples.length, 0))
  })

  it('asks nothing and returns nothing when no local replica runs', async () => {
    const remote = await answering('up 1\n')
    const statuses = [
      modelStatus('idle', 'stopped'),
      { ...modelStatus('cloud', 'running', [{ url: remote.url }]), runtime: 'remote' as const },
    ]
    expect(await scrapeEngines(statuses)).toBe('')
    expect(remote.hits.n).toBe(0)
  })
})

describe('withEngineSeries', () => {
  it('writes the engines’ text after the registry’s, on a line of its own', async () => {
    const registry = (text: string) => ({ metrics: async () => text })
    const engines = async () => 'b 2\n'
    expect(await withEngineSeries(registry('a 1\n'), engines)).toBe('a 1\nb 2\n')
    expect(await withEngineSeries(registry('a 1'), engines)).toBe('a 1\nb 2\n')
    expect(await withEngineSeries(registry('a 1'), async () => '')).toBe('a 1')
    expect(await withEngineSeries(registry('a 1\n'))).toBe('a 1\n')
  })
})
