import { CortexError } from '../contract/errors.js'
import type { ApiKeyRecord } from '../contract/keys.js'
import type { ModelDefinition } from '../contract/model.js'

/** What routing knows of a request: read from its path and the few body fields the dialect extracts. */
export interface RequestFacts {
  /** The `model` the client sent: a name or an alias. */
  model: string
}

/** The models routing chooses among: lookup by name or alias, and every model for the 404's list. */
export interface ModelTable {
  resolve(nameOrAlias: string): ModelDefinition | undefined
  all(): ReadonlyArray<Pick<ModelDefinition, 'name' | 'aliases'>>
}

/** Where a request goes: the models to try in order (the engine picks the replica), or why it goes nowhere. */
export type RouteDecision = { candidates: ModelDefinition[]; refusal?: undefined } | { refusal: CortexError }

/** Names longer than this are cut where a message repeats them: a client's 1 MB `model` must not come back whole. */
const SHOWN_NAME = 200

const shown = (name: string) => (name.length > SHOWN_NAME ? `${name.slice(0, SHOWN_NAME)}…` : name)

/** Whether the key may use the model: its list names the model or one of its aliases (null = every model). */
export function modelAllowed(key: ApiKeyRecord | null, def: Pick<ModelDefinition, 'name' | 'aliases'>): boolean {
  if (key === null || key.models === null) return true
  return key.models.includes(def.name) || def.aliases.some((alias) => key.models!.includes(alias))
}

/** 404 listing the models this caller may use, and only those. */
export function modelNotFound(models: ModelTable, name: string, key: ApiKeyRecord | null): CortexError {
  const names = models
    .all()
    .filter((m) => modelAllowed(key, m))
    .map((m) => (m.aliases.length > 0 ? `${m.name} (alias ${m.aliases.join(', ')})` : m.name))
  const available = names.length > 0 ? `available models: ${names.join('; ')}` : 'no models are configured'
  return new CortexError('model_not_found', `model "${shown(name)}" does not exist; ${available}`)
}

/**
 * Routes one request: a pure function of what the request says, who sends it and which models exist. Today a name
 * or alias names one model; routing policies add candidates and rules here.
 */
export function route(facts: RequestFacts, key: ApiKeyRecord | null, models: ModelTable): RouteDecision {
  const def = models.resolve(facts.model)
  if (def === undefined) return { refusal: modelNotFound(models, facts.model, key) }
  if (!modelAllowed(key, def)) {
    const allowed = key!.models!.join(', ')
    return {
      refusal: new CortexError(
        'model_not_allowed',
        `the API key "${key!.name}" may not use model "${shown(facts.model)}"; it may use: ${allowed}`,
      ),
    }
  }
  return { candidates: [def] }
}
