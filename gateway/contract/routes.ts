import Type, { type Static } from 'typebox'
import { CacheConfig, type CachePolicy } from './cache.js'

const Name = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]*$' })
const Tokens = Type.Integer({ minimum: 0 })

/** Which callers a target serves: any listed key, key tag, organization or header value matches (one list is enough). */
export const RouteClients = Type.Object(
  {
    /** API key names or ids. */
    keys: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    /** Key tags (`cortex keys create --tags batch,n8n`). */
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    /** Organization names or ids. */
    orgs: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    /** A request header and the values that match (case-insensitive name, exact value), e.g. x-cortex-client: [n8n]. */
    header: Type.Optional(
      Type.Object(
        {
          name: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9-]+$' }),
          values: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
)
export type RouteClients = Static<typeof RouteClients>

export const RouteTarget = Type.Object(
  {
    model: Type.String({ minLength: 1, description: 'a model name or alias' }),
    minPromptTokens: Type.Optional(Tokens),
    maxPromptTokens: Type.Optional(Tokens),
    clients: Type.Optional(RouteClients),
  },
  { additionalProperties: false },
)
export type RouteTarget = Static<typeof RouteTarget>

/** A virtual model: one name that picks a model per request by prompt length and client (`routes:` in cortex.yaml). */
export const RouteConfig = Type.Object(
  {
    name: Name,
    aliases: Type.Optional(Type.Array(Name)),
    /** Tried in order: the targets whose rules match and whose context holds the request are the candidates. */
    targets: Type.Array(RouteTarget, { minItems: 1 }),
    /** Taken when no target's rules match (its context must still hold the request). */
    fallback: Type.Optional(Type.String({ minLength: 1 })),
    /** The route's completion cache; its targets' own caches serve only requests that name them. */
    cache: Type.Optional(CacheConfig),
  },
  { additionalProperties: false },
)
export type RouteConfig = Static<typeof RouteConfig>

/** A route as the gateway holds it: model references resolved to model names. */
export interface RouteDefinition {
  name: string
  aliases: string[]
  targets: Array<Omit<RouteTarget, 'model'> & { model: string }>
  fallback: string | null
  cache?: CachePolicy
  origin: 'config' | 'api'
}

/** `PATCH /admin/api/routes/{id}`: the fields given replace the route's (a `fallback` of null removes it). */
export const RoutePatchBody = Type.Object(
  {
    name: Type.Optional(Name),
    aliases: Type.Optional(Type.Array(Name)),
    targets: Type.Optional(Type.Array(RouteTarget, { minItems: 1 })),
    fallback: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
    cache: Type.Optional(Type.Union([CacheConfig, Type.Null()])),
  },
  { additionalProperties: false },
)
export type RoutePatchBody = Static<typeof RoutePatchBody>

/** A route as the admin API shows it: `origin: config` ones are read-only there (409), as config models are. */
export interface RouteView extends RouteDefinition {
  id: string
}
