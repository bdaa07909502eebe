import { describe, expect, it } from 'vitest'
import { keyRecord } from '../auth/keys.test-support.js'
import type { ModelDefinition } from '../contract/model.js'
import type { RouteDefinition } from '../contract/routes.js'
import { configuredContext } from './context.js'
import { modelAllowed, route, routeTable, type ModelTable, type RequestFacts } from './route.js'

const model = (name: string, aliases: string[] = [], args: string[] = []) =>
  ({ name, aliases, engine: 'llamacpp', args }) as unknown as ModelDefinition
const qwen = model('qwen2.5-7b', ['qwen'])
const llama = model('llama')
const long = model('llama-32k', [], ['-c', '32768'])
const short = model('llama-8k', [], ['-c', '8192'])

const llamaRoute: RouteDefinition = {
  name: 'chat',
  aliases: ['assistant'],
  targets: [
    { model: 'llama-32k', minPromptTokens: 6000 },
    { model: 'llama-8k', clients: { tags: ['batch'], header: { name: 'x-cortex-client', values: ['n8n'] } } },
    { model: 'llama-8k', maxPromptTokens: 5999 },
  ],
  fallback: 'llama-32k',
  origin: 'config',
}

function table(models: ModelDefinition[], routes: RouteDefinition[] = [], running: Record<string, number> = {}): ModelTable {
  const r = routeTable(routes)
  return {
    resolve: (wanted) => models.find((m) => m.name === wanted || m.aliases.includes(wanted)),
    all: () => models,
    resolveRoute: (name) => r.resolve(name),
    routes: () => r.all(),
    contextOf: (name) => running[name] ?? configuredContext(models.find((m) => m.name === name)!),
    orgName: (id) => (id === 'org_1' ? 'acme' : undefined),
  }
}

const facts = (model: string, o: Partial<RequestFacts> & { headers?: Record<string, string> } = {}): RequestFacts => ({
  model,
  promptTokens: 100,
  outputTokens: null,
  header: (name) => o.headers?.[name],
  now: Date.parse('2026-03-02T12:00:00Z'),
  ...o,
})
const names = (d: ReturnType<typeof route>) => (d.refusal ? d.refusal.code : d.candidates.map((m) => m.name))

describe('route: plain models', () => {
  it('resolves a name or an alias to the model it names', () => {
    expect(route(facts('qwen'), null, table([qwen, llama]))).toEqual({ candidates: [qwen], route: null })
    expect(route(facts('llama'), null, table([qwen, llama]))).toEqual({ candidates: [llama], route: null })
  })

  it('refuses an unknown model with the list of the models and routes the key may use, and only those', () => {
    const key = keyRecord({ models: ['llama', 'chat'] })
    const { refusal } = route(facts('gpt-4'), key, table([qwen, llama, long, short], [llamaRoute]))
    expect(refusal?.code).toBe('model_not_found')
    expect(refusal?.message).toBe('model "gpt-4" does not exist; available models: llama; chat (alias assistant)')
  })

  it('cuts a long name where the message repeats it', () => {
    const { refusal } = route(facts('x'.repeat(1_000_000)), null, table([llama]))
    expect(refusal?.message.length).toBeLessThan(400)
  })

  it('refuses a model the key may not use, naming the ones it may', () => {
    const { refusal } = route(facts('qwen'), keyRecord({ name: 'ci', models: ['llama'] }), table([qwen, llama]))
    expect(refusal?.code).toBe('model_not_allowed')
    expect(refusal?.message).toBe('the API key "ci" may not use model "qwen"; it may use: llama')
  })

  it('refuses a prompt whose estimate alone exceeds the context the engine serves, before it is woken', () => {
    const { refusal } = route(facts('llama-8k', { promptTokens: 9000, outputTokens: 10 }), null, table([short]))
    expect(refusal?.code).toBe('context_length_exceeded')
    expect(refusal?.message).toMatch(
      /about 9010 tokens .*estimated at 9000.*plus 10 of output.*model "llama-8k" holds \(a context of 8192 tokens\)/,
    )
    // The output cap alone does not refuse a plain model: the engine stops at its context.
    expect(names(route(facts('llama-8k', { promptTokens: 8000, outputTokens: 4000 }), null, table([short])))).toEqual([
      'llama-8k',
    ])
    // The running engine's own figure wins over the flags; unknown context never refuses.
    expect(names(route(facts('llama-8k', { promptTokens: 9000 }), null, table([short], [], { 'llama-8k': 16384 })))).toEqual([
      'llama-8k',
    ])
    expect(names(route(facts('llama', { promptTokens: 10 ** 6 }), null, table([llama])))).toEqual(['llama'])
  })
})

describe('route: routes', () => {
  const all = table([long, short], [llamaRoute])

  it.each([
    ['a long prompt goes to the long-context target', facts('chat', { promptTokens: 7000 }), ['llama-32k']],
    ['a short prompt to the short one, then the fallback', facts('chat', { promptTokens: 100 }), ['llama-8k', 'llama-32k']],
    ['the route’s alias works the same', facts('assistant', { promptTokens: 7000 }), ['llama-32k']],
    ['a header client goes to its target', facts('chat', { headers: { 'x-cortex-client': 'n8n' } }), ['llama-8k', 'llama-32k']],
    [
      'a target whose context cannot hold prompt and output is skipped',
      facts('chat', { promptTokens: 5000, outputTokens: 4000 }),
      ['llama-32k'],
    ],
    ['bounds are inclusive', facts('chat', { promptTokens: 6000 }), ['llama-32k']],
  ])('%s', (_what, f, expected) => {
    expect(names(route(f, null, all))).toEqual(expected)
  })

  it('matches clients by key tag, key name or id, and organization name or id', () => {
    const byTag = { ...llamaRoute, targets: [{ model: 'llama-8k', clients: { tags: ['batch'] } }], fallback: null }
    const t = table([long, short], [byTag])
    expect(names(route(facts('chat'), keyRecord({ tags: ['batch'] }), t))).toEqual(['llama-8k'])
    expect(names(route(facts('chat'), keyRecord({ tags: ['chat'] }), t))).toBe('invalid_request')
    expect(names(route(facts('chat'), null, t))).toBe('invalid_request')
    for (const clients of [{ keys: ['n8n'] }, { keys: ['key_1'] }, { orgs: ['acme'] }, { orgs: ['org_1'] }]) {
      const r = table([long, short], [{ ...byTag, targets: [{ model: 'llama-8k', clients }] }])
      expect(names(route(facts('chat'), keyRecord({ name: 'n8n', orgId: 'org_1' }), r))).toEqual(['llama-8k'])
      expect(names(route(facts('chat'), keyRecord({ name: 'other', id: 'key_2', orgId: 'org_2' }), r))).toBe('invalid_request')
    }
  })

  it('with no target for the request and no fallback, says so and what to change', () => {
    const strict = { ...llamaRoute, targets: [{ model: 'llama-32k', minPromptTokens: 6000 }], fallback: null }
    const { refusal } = route(facts('chat', { promptTokens: 10 }), null, table([long], [strict]))
    expect(refusal?.message).toMatch(/route "chat" has no target for this request .* give the route a fallback/)
  })

  it('a request no target can hold is context_length_exceeded naming the estimate and the largest context', () => {
    const { refusal } = route(facts('chat', { promptTokens: 40_000 }), null, all)
    expect(refusal?.code).toBe('context_length_exceeded')
    expect(refusal?.message).toMatch(
      /about 40000 tokens.*any model of route "chat" holds \(the largest context is 32768 tokens\)/,
    )
  })

  it('a key may use a route its list names, and through it the targets it does not name', () => {
    const key = keyRecord({ models: ['assistant'] })
    expect(names(route(facts('chat', { promptTokens: 7000 }), key, all))).toEqual(['llama-32k'])
    expect(names(route(facts('llama-32k'), key, all))).toBe('model_not_allowed')
    expect(names(route(facts('chat'), keyRecord({ name: 'ci', models: ['llama-8k'] }), all))).toBe('model_not_allowed')
  })
})

describe('route: schedules', () => {
  const nightly = { ...model('night-72b'), schedule: [{ days: [], from: 120, to: 360, timeZone: 'UTC' }] } as ModelDefinition
  const daily = { ...model('day-8b'), schedule: [{ days: [], from: 360, to: 120, timeZone: 'UTC' }] } as ModelDefinition
  const both: RouteDefinition = {
    name: 'big',
    aliases: [],
    targets: [{ model: 'night-72b' }, { model: 'day-8b' }],
    fallback: null,
    origin: 'config',
  }
  const noon = Date.parse('2026-03-02T12:00:00Z')
  const three = Date.parse('2026-03-02T03:00:00Z')

  it('outside its window a model is 503 model_unavailable, saying when it opens, with Retry-After to then', () => {
    const { refusal } = route(facts('night-72b', { now: noon }), null, table([nightly]))
    expect(refusal?.code).toBe('model_unavailable')
    expect(refusal?.message).toBe('model "night-72b" is available 02:00–06:00 UTC only; it opens at 2026-03-03 02:00 UTC')
    expect(refusal?.details?.retryAfterSeconds).toBe(14 * 3600)
    expect(names(route(facts('night-72b', { now: three }), null, table([nightly])))).toEqual(['night-72b'])
  })

  it('a route takes the targets inside their windows: the 72B at night, the 8B by day', () => {
    const t = table([nightly, daily], [both])
    expect(names(route(facts('big', { now: three }), null, t))).toEqual(['night-72b'])
    expect(names(route(facts('big', { now: noon }), null, t))).toEqual(['day-8b'])
  })
})

describe('modelAllowed', () => {
  it('allows a model by its name or any of its aliases', () => {
    const byAlias = keyRecord({ models: ['qwen'] })
    expect(modelAllowed(byAlias, qwen)).toBe(true)
    expect(modelAllowed(byAlias, llama)).toBe(false)
    expect(modelAllowed(null, llama)).toBe(true)
  })
})

describe('configuredContext', () => {
  it('reads -c / --ctx-size for llama.cpp and --max-model-len for vLLM; null where the flags leave it to the model', () => {
    expect(configuredContext({ engine: 'llamacpp', args: ['--ctx-size=4096'] })).toBe(4096)
    expect(configuredContext({ engine: 'llamacpp', args: ['-c', '0'] })).toBeNull()
    expect(configuredContext({ engine: 'vllm', args: ['--max-model-len', '32k'] })).toBe(32000)
    expect(configuredContext({ engine: 'openai', args: [] })).toBeNull()
    expect(configuredContext({ engine: 'llamacpp', args: ['-c', 'lots'] })).toBeNull()
  })
})
