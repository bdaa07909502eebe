import { CortexError } from '../contract/errors.js'
import type { ApiKeyRecord } from '../contract/keys.js'
import type { ModelDefinition } from '../contract/model.js'
import type { RouteDefinition } from '../contract/routes.js'
import { describeWindows, isOpen, nextChange } from '../engines/policies/schedule.js'
import { clientMatches, promptMatches, type Caller } from './rules.js'

/** What routing knows of a request: read from its path, headers and the few body fields the dialect extracts. */
export interface RequestFacts {
  /** The `model` the client sent: a name or an alias, of a model or a route. */
  model: string
  /** The prompt estimate tpm uses: body bytes ÷ 4, nothing parsed. */
  promptTokens: number
  /** The output cap the request gives (`max_tokens` and kin), times `n`; null when it gives none. */
  outputTokens: number | null
  /** A request header by lower-case name (the first value). */
  header(name: string): string | undefined
  /** The clock's reading when the request arrived (epoch ms): schedules are read against it. */
  now: number
}

/** The models and routes routing chooses among. */
export interface ModelTable {
  resolve(nameOrAlias: string): ModelDefinition | undefined
  all(): ReadonlyArray<Pick<ModelDefinition, 'name' | 'aliases'>>
  resolveRoute(nameOrAlias: string): RouteDefinition | undefined
  routes(): ReadonlyArray<Pick<RouteDefinition, 'name' | 'aliases'>>
  /** The context a model serves: its running engine's, else what its flags set (`-c`, `--max-model-len`); null = unknown. */
  contextOf(model: string): number | null
  /** Names of the organization a key belongs to, for `clients.orgs` (ids match too). */
  orgName(orgId: string): string | undefined
}

/** Where a request goes: the models to try in order (the engine picks the replica), or why it goes nowhere. */
export type RouteDecision =
  { candidates: ModelDefinition[]; route: RouteDefinition | null; refusal?: undefined } | { refusal: CortexError }

/** Names longer than this are cut where a message repeats them: a client's 1 MB `model` must not come back whole. */
const SHOWN_NAME = 200

const shown = (name: string) => (name.length > SHOWN_NAME ? `${name.slice(0, SHOWN_NAME)}…` : name)

/** Whether the key may use the model or route: its list names it or one of its aliases (null = everything). */
export function modelAllowed(key: ApiKeyRecord | null, def: Pick<ModelDefinition, 'name' | 'aliases'>): boolean {
  if (key === null || key.models === null) return true
  return key.models.includes(def.name) || def.aliases.some((alias) => key.models!.includes(alias))
}

/** 404 listing the models and routes this caller may use, and only those. */
export function modelNotFound(models: Pick<ModelTable, 'all'> & Partial<ModelTable>, name: string, key: ApiKeyRecord | null) {
  const names = [...models.all(), ...(models.routes?.() ?? [])]
    .filter((m) => modelAllowed(key, m))
    .map((m) => (m.aliases.length > 0 ? `${m.name} (alias ${m.aliases.join(', ')})` : m.name))
  const available = names.length > 0 ? `available models: ${names.join('; ')}` : 'no models are configured'
  return new CortexError('model_not_found', `model "${shown(name)}" does not exist; ${available}`)
}

function notAllowed(key: ApiKeyRecord, asked: string): CortexError {
  return new CortexError(
    'model_not_allowed',
    `the API key "${key.name}" may not use model "${shown(asked)}"; it may use: ${key.models!.join(', ')}`,
  )
}

const tooLong = (facts: RequestFacts, what: string) =>
  new CortexError(
    'context_length_exceeded',
    `this request needs about ${facts.promptTokens + (facts.outputTokens ?? 0)} tokens (the prompt estimated at ` +
      `${facts.promptTokens} from its size${facts.outputTokens === null ? '' : `, plus ${facts.outputTokens} of output asked for`}), ` +
      `more than ${what}: shorten it, or ask for fewer output tokens`,
    { param: 'messages' },
  )

/** 503 model_unavailable for models outside their schedule: when the first of them opens, as words and Retry-After. */
function unavailable(models: ModelDefinition[], now: number): CortexError {
  const opens = models.map((m) => ({ m, at: nextChange(m.schedule ?? [], now) }))
  const first = opens.reduce((a, b) => (b.at !== null && (a.at === null || b.at < a.at) ? b : a))
  const when =
    first.at === null
      ? 'it has no window ahead'
      : `it opens at ${new Date(first.at).toISOString().slice(0, 16).replace('T', ' ')} UTC`
  const names = models.map((m) => `"${m.name}"`).join(', ')
  return new CortexError(
    'model_unavailable',
    `model ${names} is available ${describeWindows(first.m.schedule ?? [])} only; ${when}`,
    first.at === null ? {} : { retryAfterSeconds: Math.max(1, Math.ceil((first.at - now) / 1000)) },
  )
}

/**
 * Routes one request: a pure function of what the request says, who sends it, and which models and routes exist.
 * A model's name gives that model — refused before its engine is woken when the prompt estimate alone exceeds the
 * context it serves. A route's name gives its targets whose rules match and whose context holds the request, in
 * order, then its fallback: admission takes the first with room.
 */
export function route(facts: RequestFacts, key: ApiKeyRecord | null, table: ModelTable): RouteDecision {
  const def = table.resolve(facts.model)
  if (def !== undefined) {
    if (!modelAllowed(key, def)) return { refusal: notAllowed(key!, facts.model) }
    if (!isOpen(def.schedule ?? [], facts.now)) return { refusal: unavailable([def], facts.now) }
    const context = table.contextOf(def.name)
    if (context !== null && facts.promptTokens > context) {
      return { refusal: tooLong(facts, `model "${def.name}" holds (a context of ${context} tokens)`) }
    }
    return { candidates: [def], route: null }
  }
  const r = table.resolveRoute(facts.model)
  if (r === undefined) return { refusal: modelNotFound(table, facts.model, key) }
  if (!modelAllowed(key, r)) return { refusal: notAllowed(key!, facts.model) }
  return routeCandidates(facts, key, r, table)
}

function routeCandidates(facts: RequestFacts, key: ApiKeyRecord | null, r: RouteDefinition, table: ModelTable): RouteDecision {
  const caller: Caller = { key, orgName: key?.orgId ? table.orgName(key.orgId) : undefined, header: facts.header }
  const need = facts.promptTokens + (facts.outputTokens ?? 0)
  const holds = (model: string) => {
    const context = table.contextOf(model)
    return context === null || need <= context
  }
  const matching = r.targets
    .filter((t) => promptMatches(t, facts.promptTokens) && clientMatches(t.clients, caller))
    .map((t) => t.model)
  const wanted = [...new Set(r.fallback === null ? matching : [...matching, r.fallback])]
  const fitting = wanted.filter(holds).flatMap((name) => table.resolve(name) ?? [])
  const candidates = fitting.filter((m) => isOpen(m.schedule ?? [], facts.now))
  if (candidates.length > 0) return { candidates, route: r }
  if (fitting.length > 0) return { refusal: unavailable(fitting, facts.now) }
  if (wanted.length === 0) {
    return {
      refusal: new CortexError(
        'invalid_request',
        `route "${r.name}" has no target for this request (prompt about ${facts.promptTokens} tokens` +
          `${key ? `, key "${key.name}"` : ''}) and no fallback: give the route a fallback, or widen a target's rules`,
        { param: 'model' },
      ),
    }
  }
  const contexts = [...new Set([...r.targets.map((t) => t.model), ...(r.fallback === null ? [] : [r.fallback])])]
    .map((m) => table.contextOf(m))
    .filter((c): c is number => c !== null)
  return {
    refusal: tooLong(facts, `any model of route "${r.name}" holds (the largest context is ${Math.max(...contexts)} tokens)`),
  }
}

/** The routes by name and alias. */
export interface RouteTable {
  resolve(nameOrAlias: string): RouteDefinition | undefined
  all(): readonly RouteDefinition[]
}

export function routeTable(routes: readonly RouteDefinition[]): RouteTable {
  const byName = new Map(routes.flatMap((r) => [r.name, ...r.aliases].map((n) => [n, r] as const)))
  return { resolve: (name) => byName.get(name), all: () => routes }
}
