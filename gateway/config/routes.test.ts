import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { formatIssue } from './issues.js'
import { ConfigError, loadConfig } from './load.js'

let dir: string
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-routes-'))))
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

const MODELS = `models:
  - { name: llama-32k, aliases: [long], engine: llamacpp, runtime: process, source: a.gguf, args: ["-c", "32768"] }
  - { name: llama-8k, engine: llamacpp, runtime: process, source: a.gguf, args: ["-c", "8192"] }
`

function load(yaml: string) {
  fs.writeFileSync(path.join(dir, 'cortex.yaml'), yaml)
  return loadConfig({ platform: 'linux', homedir: '/home/ada', cwd: dir, env: {}, flags: { config: 'cortex.yaml' } })
}

function problems(yaml: string): string[] {
  try {
    load(yaml)
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map(formatIssue)
    throw err
  }
  throw new Error('expected the config to be refused')
}

describe('routes in cortex.yaml', () => {
  it('normalizes a route: aliases of models become their names, no fallback is null', () => {
    const config = load(`${MODELS}routes:
  - name: chat
    aliases: [assistant]
    targets:
      - { model: long, minPromptTokens: 6000 }
      - { model: llama-8k, clients: { tags: [batch], header: { name: x-cortex-client, values: [n8n] } } }
    fallback: long
  - { name: plain, targets: [{ model: llama-8k }] }
`)
    expect(config.routes).toEqual([
      {
        name: 'chat',
        aliases: ['assistant'],
        targets: [
          { model: 'llama-32k', minPromptTokens: 6000 },
          { model: 'llama-8k', clients: { tags: ['batch'], header: { name: 'x-cortex-client', values: ['n8n'] } } },
        ],
        fallback: 'llama-32k',
        origin: 'config',
      },
      { name: 'plain', aliases: [], targets: [{ model: 'llama-8k' }], fallback: null, origin: 'config' },
    ])
  })

  it('refuses names that clash with a model or another route, unknown targets, and bounds out of order, at their lines', () => {
    expect(
      problems(`${MODELS}routes:
  - name: long
    targets: [{ model: llama-8k }]
  - name: chat
    aliases: [chat2]
    targets:
      - { model: llama-70b }
      - { model: llama-8k, minPromptTokens: 10, maxPromptTokens: 5 }
    fallback: chat
  - name: chat2
    targets: [{ model: llama-8k }]
`),
    ).toEqual([
      'cortex.yaml:5 routes[0].name: name "long" is already a model\'s name or alias; routes and models share one namespace',
      'cortex.yaml:10 routes[1].targets[0].model: "llama-70b" is not a model\'s name or alias (models: llama-32k, long, llama-8k); targets name models, not routes',
      'cortex.yaml:11 routes[1].targets[1].minPromptTokens: minPromptTokens (10) must not exceed maxPromptTokens (5)',
      'cortex.yaml:12 routes[1].fallback: "chat" is not a model\'s name or alias (models: llama-32k, long, llama-8k); targets name models, not routes',
      'cortex.yaml:13 routes[2].name: name "chat2" is already used by routes[1] (chat); names and aliases must be unique',
    ])
  })

  it('a route needs targets, and its rules take only known keys', () => {
    const found = problems(`${MODELS}routes:
  - { name: empty, targets: [] }
  - { name: odd, targets: [{ model: llama-8k, maxTokens: 5 }] }
`)
    expect(found.join('\n')).toMatch(/routes\[0\]\.targets: expected a non-empty list/)
    expect(found.join('\n')).toMatch(/routes\[1\]\.targets\[0\]\.maxTokens: unknown key "maxTokens"/)
  })
})

describe('schedules in cortex.yaml', () => {
  const scheduled = (extra: string) => `models:
  - name: night
    engine: llamacpp
    runtime: process
    source: a.gguf
${extra}`

  it('normalizes windows to minutes, every day when no days are given, the machine’s zone when none is named', () => {
    const [m] = load(
      scheduled(`    schedule:
      - { from: "02:00", to: "06:30", timeZone: Europe/Berlin, days: [mon, fri] }
      - { from: "22:00", to: "01:00" }
    preload: true
    drainTimeout: 2m
`),
    ).models
    expect(m).toMatchObject({
      schedule: [
        { days: ['mon', 'fri'], from: 120, to: 390, timeZone: 'Europe/Berlin' },
        { days: [], from: 1320, to: 60, timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone },
      ],
      preload: true,
      drainTimeoutMs: 120_000,
    })
  })

  it('refuses an unknown time zone, a time that is not HH:MM, and preload without a schedule', () => {
    expect(problems(scheduled(`    schedule: [{ from: "02:00", to: "06:00", timeZone: Mars/Olympus }]\n`))).toEqual([
      'cortex.yaml:6 models[0].schedule[0].timeZone: an IANA time zone such as Europe/Berlin or America/New_York (got "Mars/Olympus")',
    ])
    expect(problems(scheduled(`    schedule: [{ from: "2am", to: "24:00" }]\n`)).join('\n')).toMatch(
      /schedule\[0\]\.from: .*HH:MM/,
    )
    expect(problems(scheduled('    preload: true\n'))).toEqual([
      'cortex.yaml:6 models[0].preload: only with a schedule: it applies when a window opens or ends',
    ])
  })

  it('normalizes caches on models and routes with their defaults, and keeps them where limits are kept', () => {
    const config = load(`limits: { redis: redis://127.0.0.1:6379 }
models:
  - { name: llama-8k, engine: llamacpp, runtime: process, source: a.gguf, cache: { ttl: 10m, maxBytes: 1MiB } }
routes:
  - { name: chat, targets: [{ model: llama-8k }], cache: { shared: true } }
`)
    expect(config.models[0]!.cache).toEqual({ ttlMs: 600_000, maxBytes: 1024 * 1024, shared: false })
    expect(config.routes[0]!.cache).toEqual({ ttlMs: 3_600_000, maxBytes: 256 * 1024 * 1024, shared: true })
    expect(config.cache).toEqual({ redis: 'redis://127.0.0.1:6379' })
    expect(load(`cache: { redis: null }\nlimits: { redis: redis://h:1 }\n${MODELS}`).cache).toEqual({ redis: null })
    expect(load(MODELS).models[0]!.cache).toBeUndefined()
  })

  it('refuses a cache setting it does not know, naming the field', () => {
    const [problem] = problems(`models:
  - { name: a, engine: llamacpp, runtime: process, source: a.gguf, cache: { ttl: 10m, size: 5 } }
`)
    expect(problem).toMatch(/models\[0\]\.cache/)
    expect(problem).toMatch(/size/)
  })
})
