import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { request } from 'undici'
import type { ModelStatus } from '../contract/index.js'

/**
 * The engines' own series (`llamacpp:*` from `llama-server --metrics`, `vllm:*` and vLLM's process series) read from
 * each running replica and re-exposed after Cortex's with `model` and `replica` labels. The text format wants each
 * family in one piece, and Prometheus drops a whole scrape over one line it cannot parse, so every engine's text is
 * parsed, checked and written out again here rather than pasted: an engine that answers something unreadable drops
 * out, the rest still arrive.
 */

/** One sample line; value and timestamp kept as the engine wrote them (`+Inf`, `1.5e+06`). */
export interface Sample {
  name: string
  labels: Array<[string, string]>
  value: string
  timestamp?: string
}

/** A metric family: its HELP (still escaped, as it is never changed) and TYPE when given, and its samples. */
export interface Family {
  name: string
  help?: string
  type?: string
  samples: Sample[]
}

// The names a family's samples may have: histograms and summaries add _bucket/_sum/_count, OpenMetrics-style
// counters and info metrics declare the bare name and write _total/_created/_info.
const SUFFIXES = ['', '_bucket', '_sum', '_count', '_total', '_created', '_info', '_gsum', '_gcount']
const belongs = (family: string, sample: string) => SUFFIXES.some((s) => family + s === sample)
const METRIC_NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y
// Go's ParseFloat, which Prometheus reads values with, takes any case of Inf and NaN: prom-client writes `Nan`.
const VALUE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?|[+-]?inf(?:inity)?|nan)$/i
const TIMESTAMP = /^-?\d+$/
const META = /^#\s+(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s+(.*))?$/

/** Prometheus' text format 0.0.4. Throws on a line it cannot read, naming the line. */
export function parseFamilies(text: string): Family[] {
  const families: Family[] = []
  let current: Family | undefined
  const open = (name: string): Family => {
    if (current?.name !== name) families.push((current = { name, samples: [] }))
    return current
  }
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim()
    if (line === '') continue
    if (line.startsWith('#')) {
      // Other comments, OpenMetrics' `# EOF` among them, carry nothing to keep.
      const meta = META.exec(line)
      if (meta === null) continue
      const family = open(meta[2]!)
      if (meta[1] === 'HELP') family.help = meta[3] ?? ''
      else family.type = meta[3] ?? 'untyped'
      continue
    }
    const sample = parseSample(line, i + 1)
    const family = current !== undefined && belongs(current.name, sample.name) ? current : open(sample.name)
    family.samples.push(sample)
  }
  return families
}

function parseSample(line: string, lineNo: number): Sample {
  let pos = 0
  const fail = (what: string): never => {
    throw new Error(`line ${lineNo}, column ${pos + 1}: expected ${what} in ${JSON.stringify(line.slice(0, 200))}`)
  }
  const token = (re: RegExp): string | undefined => {
    re.lastIndex = pos
    const m = re.exec(line)
    if (m !== null) pos = re.lastIndex
    return m?.[0]
  }
  const blanks = () => {
    while (line[pos] === ' ' || line[pos] === '\t') pos++
  }
  const skip = (c: string) => (line[pos] === c ? pos++ : fail(`"${c}"`))

  const name = token(METRIC_NAME) ?? fail('a metric name')
  const labels: Array<[string, string]> = []
  blanks()
  if (line[pos] === '{') {
    pos++
    for (blanks(); line[pos] !== '}'; blanks()) {
      const key = token(LABEL_NAME) ?? fail('a label name or "}"')
      blanks()
      skip('=')
      blanks()
      skip('"')
      let value = ''
      for (let c = line[pos++]; c !== '"'; c = line[pos++]) {
        if (c === undefined) fail('a closing quote')
        else if (c !== '\\') value += c
        else {
          const escaped = line[pos++] ?? fail('an escaped character')
          value += escaped === 'n' ? '\n' : escaped
        }
      }
      labels.push([key, value])
      blanks()
      if (line[pos] === ',') pos++
      else if (line[pos] !== '}') fail('"," or "}"')
    }
    pos++
  }
  const [value, timestamp, extra] = line.slice(pos).trim().split(/\s+/)
  if (value === undefined || !VALUE.test(value)) fail('a number')
  if ((timestamp !== undefined && !TIMESTAMP.test(timestamp)) || extra !== undefined) fail('a timestamp in ms, then the end')
  return timestamp === undefined ? { name, labels, value: value! } : { name, labels, value: value!, timestamp }
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')

function formatSample({ name, labels, value, timestamp }: Sample): string {
  const set = labels.length === 0 ? '' : `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`
  return `${name}${set} ${value}${timestamp === undefined ? '' : ` ${timestamp}`}`
}

/** The text format again, ending in a newline; '' for no families. */
export function formatFamilies(families: Family[]): string {
  const lines: string[] = []
  for (const f of families) {
    if (f.help !== undefined) lines.push(`# HELP ${f.name} ${f.help}`.trimEnd())
    if (f.type !== undefined) lines.push(`# TYPE ${f.name} ${f.type}`)
    for (const s of f.samples) lines.push(formatSample(s))
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`
}

/**
 * Our labels go first on every sample. Where the engine already has a label of that name, ours wins and the
 * engine's is kept as `engine_<name>` (`engine_engine_<name>` if that is taken too): dashboards can then rely on
 * `model` always being the Cortex model name. vLLM names its own `model_name`, so it clashes with nothing.
 */
export function addLabels(families: Family[], ours: Record<string, string>): Family[] {
  const mine = Object.entries(ours)
  const label = (theirs: Array<[string, string]>): Array<[string, string]> => {
    const taken = new Set([...theirs.map(([k]) => k), ...mine.map(([k]) => k)])
    const kept = theirs.map(([k, v]): [string, string] => {
      if (!Object.hasOwn(ours, k)) return [k, v]
      let renamed = `engine_${k}`
      while (taken.has(renamed)) renamed = `engine_${renamed}`
      taken.add(renamed)
      return [renamed, v]
    })
    return [...mine, ...kept]
  }
  return families.map((f) => ({ ...f, samples: f.samples.map((s) => ({ ...s, labels: label(s.labels) })) }))
}

/**
 * One family per name with all its samples, in the order first seen. HELP and TYPE come from the first that gave
 * them: two engines of the same kind describe a family alike, and Prometheus reads TYPE as metadata only.
 */
export function mergeFamilies(lists: Family[][]): Family[] {
  const byName = new Map<string, Family>()
  for (const list of lists) {
    for (const f of list) {
      const seen = byName.get(f.name)
      if (seen === undefined) byName.set(f.name, { ...f, samples: [...f.samples] })
      else {
        seen.help ??= f.help
        seen.type ??= f.type
        seen.samples.push(...f.samples)
      }
    }
  }
  return [...byName.values()]
}

export interface ScrapeOptions {
  /** For the whole request, body included; default 2 s, well under Prometheus' default 10 s scrape timeout. */
  timeoutMs?: number
  /** A larger answer is dropped; default 4 MiB, far above what an engine writes, so a broken one cannot fill memory. */
  maxBytes?: number
  /** Why a replica's series are missing, at debug level: the `up` series below already says that they are. */
  logger?: Pick<Logger, 'debug'>
}

const UP = 'cortex_engine_scrape_up'

/**
 * Reads `/metrics` of every running replica in parallel and returns their series relabelled and merged, plus
 * `cortex_engine_scrape_up{model,replica}` (1 read, 0 not) so that a replica's missing series show. A replica that
 * fails (it just died, answers 503 while loading, is slow or writes garbage) is left out and never fails the scrape.
 * Remote models are someone else's servers: their metrics are not ours to read.
 */
export async function scrapeEngines(statuses: readonly ModelStatus[], opts: ScrapeOptions = {}): Promise<string> {
  const targets = statuses
    .filter((s) => s.runtime !== 'remote')
    .flatMap((s) =>
      s.replicas.flatMap((r) =>
        r.state === 'running' && r.url ? [{ model: s.name, replica: String(r.index), url: r.url }] : [],
      ),
    )
  if (targets.length === 0) return ''
  const read = await Promise.all(
    targets.map(async ({ url, ...labels }) => {
      try {
        const text = await fetchMetrics(url, opts.timeoutMs ?? 2000, opts.maxBytes ?? 4 * 1024 * 1024)
        return { labels, families: addLabels(parseFamilies(text), labels) }
      } catch (err) {
        opts.logger?.debug({ err, ...labels, url }, 'an engine’s /metrics could not be read; its series are left out')
        return { labels, families: null }
      }
    }),
  )
  const up: Family = {
    name: UP,
    help: 'Whether the running engine replica’s own /metrics was read in this scrape (1) or not (0: down, slow, or none)',
    type: 'gauge',
    samples: read.map((r) => ({ name: UP, labels: Object.entries(r.labels), value: r.families ? '1' : '0' })),
  }
  return formatFamilies(mergeFamilies([[up], ...read.flatMap((r) => (r.families ? [r.families] : []))]))
}

async function fetchMetrics(root: string, timeoutMs: number, maxBytes: number): Promise<string> {
  // The signal covers the body too; text/plain asks prometheus_client (vLLM) for 0.0.4 rather than OpenMetrics.
  const res = await request(new URL('/metrics', root), {
    signal: AbortSignal.timeout(timeoutMs),
    headers: { accept: 'text/plain;version=0.0.4' },
  })
  if (res.statusCode !== 200) {
    await res.body.dump()
    throw new Error(`GET ${root}/metrics answered ${res.statusCode}`)
  }
  const chunks: Buffer[] = []
  let size = 0
  // Leaving the loop by throwing destroys the body, which closes the connection.
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) throw new Error(`GET ${root}/metrics sent more than ${maxBytes} bytes`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * The registry's text, then the engines' (`scrapeEngines`). No family is split by appending: the engines write
 * `llamacpp:*`, `vllm:*` and unprefixed process series, the registry only `cortex_*` ones, and the one `cortex_`
 * family written here, cortex_engine_scrape_up, is not registered.
 */
export async function withEngineSeries(registry: Pick<Registry, 'metrics'>, engines?: () => Promise<string>): Promise<string> {
  const [own, theirs] = await Promise.all([registry.metrics(), engines?.() ?? ''])
  if (theirs === '') return own
  return own.endsWith('\n') ? `${own}${theirs}` : `${own}\n${theirs}`
}
