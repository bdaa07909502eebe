import Type, { type Static } from 'typebox'

/** What a key may do: `inference` is every forwarded `/v1/*` path but embeddings; `admin:read` reads usage and model
 *  states on the admin API, limited to the key's organization. */
export const Scope = Type.Union([Type.Literal('inference'), Type.Literal('embeddings'), Type.Literal('admin:read')])
export type Scope = Static<typeof Scope>
export const SCOPES: readonly Scope[] = ['inference', 'embeddings', 'admin:read']
/** A key created without `scopes` gets these. */
export const DEFAULT_SCOPES: readonly Scope[] = ['inference', 'embeddings']

const Limit = Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])

/** Per-key limits; null = none. */
export const KeyLimits = Type.Object({
  /** Requests admitted in any 60 s window. */
  rpm: Limit,
  /** Tokens in any 60 s window: reserved at admission (max_tokens + body bytes / 4), settled with the real usage. */
  tpm: Limit,
  /** Requests in flight at once, checked before the model's queue. */
  concurrency: Limit,
  /** Tokens per UTC day. */
  dailyTokens: Limit,
})
export type KeyLimits = Static<typeof KeyLimits>

/** A key as the admin API and `cortex keys list --json` show it: never the key or its hash. */
export const ApiKeyView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  /** The key's first characters, to tell keys apart (`sk-cortex-Ab3d…`). */
  prefix: Type.String(),
  org: Type.Union([Type.String(), Type.Null()]),
  /** The name of the user the key belongs to. */
  user: Type.Union([Type.String(), Type.Null()]),
  /** Model names (an alias of an allowed model is allowed too); null = every model. */
  models: Type.Union([Type.Array(Type.String()), Type.Null()]),
  scopes: Type.Array(Scope),
  limits: KeyLimits,
  /** CIDRs the client's address must be in; null = anywhere. */
  ips: Type.Union([Type.Array(Type.String()), Type.Null()]),
  /** Labels routes match on (`clients.tags`), e.g. batch, n8n. */
  tags: Type.Array(Type.String()),
  /** false: the key's requests are never answered from, or kept in, a completion cache. Absent: they may be. */
  cache: Type.Optional(Type.Literal(false)),
  /** ISO 8601 times. */
  createdAt: Type.String(),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
  state: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]),
})
export type ApiKeyView = Static<typeof ApiKeyView>

/** `POST /admin/api/keys`; the same options as `cortex keys create`. */
export const KeyCreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    models: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { minItems: 1 })),
    scopes: Type.Optional(Type.Array(Scope, { minItems: 1 })),
    rpm: Type.Optional(Type.Integer({ minimum: 1 })),
    tpm: Type.Optional(Type.Integer({ minimum: 1 })),
    concurrency: Type.Optional(Type.Integer({ minimum: 1 })),
    dailyTokens: Type.Optional(Type.Integer({ minimum: 1 })),
    /** A duration from now: `30d`, `12h`; a bare number is seconds. */
    expires: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 32 }), Type.Number({ exclusiveMinimum: 0 })])),
    ips: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1 })),
    /** Labels a route's `clients.tags` rule matches, e.g. ["batch", "n8n"]. */
    tags: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' }), { maxItems: 32 }),
    ),
    /** false opts the key out of completion caches (`cortex keys create --no-cache`). */
    cache: Type.Optional(Type.Boolean()),
    /** An organization's name or id. */
    org: Type.Optional(Type.String({ minLength: 1 })),
    /** A user's name or id: the key belongs to the user and takes the user's organization. */
    user: Type.Optional(Type.String({ minLength: 1 })),
    /** The operator's own key (e.g. the same key on several gateways); else one is generated. */
    key: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
)
export type KeyCreateBody = Static<typeof KeyCreateBody>

/** The answer to a create: the key itself, shown this once. */
export const KeyCreated = Type.Object({ key: Type.String(), apiKey: ApiKeyView })
export type KeyCreated = Static<typeof KeyCreated>

/** An API key as stored: the SHA-256 of the key, never the key. Times are epoch milliseconds. */
export interface ApiKeyRecord {
  id: string
  name: string
  /** Hex SHA-256 of the whole key string. */
  hash: string
  /** The key's first characters, for telling keys apart. */
  prefix: string
  orgId: string | null
  /** The user the key belongs to; its orgId is then the user's organization. */
  userId: string | null
  /** Model names or aliases; null = every model. */
  models: string[] | null
  scopes: Scope[]
  limits: KeyLimits
  /** CIDRs (IPv4 or IPv6); null = any address. */
  ips: string[] | null
  /** Labels routes match on; [] = none. */
  tags: string[]
  /** false: opted out of completion caches; absent = may use them. */
  cache?: false
  createdAt: number
  expiresAt: number | null
  revokedAt: number | null
}
