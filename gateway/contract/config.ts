import Type, { type Static } from 'typebox'
import { CacheConfig, CacheStoreConfig } from './cache.js'
import { RouteConfig } from './routes.js'
import { ByteSize, Duration } from './units.js'

export { ByteSize, Duration } from './units.js'

export const EngineKind = Type.Union([Type.Literal('llamacpp'), Type.Literal('vllm'), Type.Literal('openai')])
export const RuntimeKind = Type.Union([Type.Literal('process'), Type.Literal('docker'), Type.Literal('remote')])

export const GpuSelection = Type.Union([
  Type.Literal('all'),
  Type.Literal('none'),
  Type.Array(Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1 })])),
])

const ClockTime = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'a wall-clock time, HH:MM (24 h)' })

/** When a model is available: `from`–`to` on `days` (every day when left out), in `timeZone` (default: the machine's). */
export const ScheduleWindowConfig = Type.Object(
  {
    days: Type.Optional(
      Type.Array(
        Type.Union([
          Type.Literal('sun'),
          Type.Literal('mon'),
          Type.Literal('tue'),
          Type.Literal('wed'),
          Type.Literal('thu'),
          Type.Literal('fri'),
          Type.Literal('sat'),
        ]),
        { minItems: 1, uniqueItems: true },
      ),
    ),
    from: ClockTime,
    to: ClockTime,
    timeZone: Type.Optional(Type.String({ minLength: 1, description: 'an IANA time zone, e.g. Europe/Berlin' })),
  },
  { additionalProperties: false },
)

export const ModelConfig = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 128,
      pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]*$',
      description: 'what clients send as "model"',
    }),
    aliases: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]*$' }))),
    engine: EngineKind,
    runtime: RuntimeKind,
    source: Type.Optional(
      Type.String({ minLength: 1, maxLength: 4096, description: 'GGUF path (llamacpp), HF repo id or local dir (vllm)' }),
    ),
    args: Type.Optional(Type.Array(Type.String(), { description: 'extra engine flags, one string each; ${PORT} expands' })),
    env: Type.Optional(Type.Record(Type.String(), Type.String())),
    replicas: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    ttl: Type.Optional(Duration),
    pinned: Type.Optional(Type.Boolean()),
    swapGroup: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: 'switching to this model stops only the running models of the same group (default: those sharing a GPU)',
      }),
    ),
    schedule: Type.Optional(Type.Array(ScheduleWindowConfig, { minItems: 1 })),
    preload: Type.Optional(Type.Boolean({ description: 'start the model when a schedule window opens' })),
    drainTimeout: Type.Optional(Duration),
    maxConcurrent: Type.Optional(Type.Integer({ minimum: 1 })),
    queue: Type.Optional(
      Type.Object(
        { size: Type.Optional(Type.Integer({ minimum: 0 })), timeout: Type.Optional(Duration) },
        { additionalProperties: false },
      ),
    ),
    startTimeout: Type.Optional(Duration),
    gpus: Type.Optional(GpuSelection),
    image: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
    network: Type.Optional(
      Type.Union([Type.Literal('host'), Type.Literal('bridge')], {
        description: 'docker only: host (default on Linux; the engine binds 127.0.0.1) or bridge (port published on 127.0.0.1)',
      }),
    ),
    baseUrl: Type.Optional(
      Type.Union([Type.String({ pattern: '^https?://' }), Type.Array(Type.String({ pattern: '^https?://' }), { minItems: 1 })]),
    ),
    apiKey: Type.Optional(Type.String({ minLength: 1 })),
    apiKeyEnv: Type.Optional(Type.String({ minLength: 1 })),
    upstreamModel: Type.Optional(Type.String({ minLength: 1 })),
    cache: Type.Optional(CacheConfig),
  },
  { additionalProperties: false },
)
export type ModelConfig = Static<typeof ModelConfig>

export const ConfigFile = Type.Object(
  {
    server: Type.Optional(
      Type.Object(
        {
          host: Type.Optional(Type.String({ minLength: 1 })),
          port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
          allowedHosts: Type.Optional(Type.Array(Type.String())),
          cors: Type.Optional(
            Type.Object({ origins: Type.Optional(Type.Array(Type.String())) }, { additionalProperties: false }),
          ),
          bodyLimit: Type.Optional(ByteSize),
          shutdownTimeout: Type.Optional(Duration),
          headersTimeout: Type.Optional(
            Type.Union(Duration.anyOf, {
              description:
                "how long a client may take to send a request's headers, else 408 request_timeout and the connection " +
                'is closed; default 10s, 0 = never',
            }),
          ),
          requestTimeout: Type.Optional(
            Type.Union(Duration.anyOf, {
              description:
                'how long a client may take to send a whole request, headers and body, else 408 request_timeout; never ' +
                'the answer, however long it streams; default 30s, 0 = never',
            }),
          ),
          maxConnectionsPerClient: Type.Optional(
            Type.Integer({
              minimum: 1,
              description:
                'open connections one client address may hold; the next gets 503 too_many_connections. Every local ' +
                'program shares 127.0.0.1. Default 1024',
            }),
          ),
          /** Believe X-Forwarded-Proto from a TLS proxy in front (console cookies are then Secure). Default false. */
          trustProxy: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
    auth: Type.Optional(
      Type.Object(
        { required: Type.Optional(Type.Boolean()), allowLoopbackWithoutKey: Type.Optional(Type.Boolean()) },
        { additionalProperties: false },
      ),
    ),
    limits: Type.Optional(
      Type.Object(
        {
          redis: Type.Optional(
            Type.Union([
              Type.String({
                pattern: '^rediss?://',
                description: 'a Redis URL like redis://127.0.0.1:6379 (or rediss:// for TLS)',
              }),
              Type.Null(),
            ]),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    metrics: Type.Optional(
      Type.Object(
        { port: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 65535 }), Type.Null()])) },
        { additionalProperties: false },
      ),
    ),
    logging: Type.Optional(
      Type.Object(
        {
          prompts: Type.Optional(Type.Boolean()),
          level: Type.Optional(
            Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
          ),
          /** `auto` (default): readable lines on a terminal, JSON otherwise; `json` or `pretty` always. */
          format: Type.Optional(Type.Union([Type.Literal('auto'), Type.Literal('json'), Type.Literal('pretty')])),
        },
        { additionalProperties: false },
      ),
    ),
    engines: Type.Optional(
      Type.Object(
        { stopOnExit: Type.Optional(Type.Boolean()), llamaServer: Type.Optional(Type.Union([Type.String(), Type.Null()])) },
        { additionalProperties: false },
      ),
    ),
    cache: Type.Optional(CacheStoreConfig),
    models: Type.Optional(Type.Array(ModelConfig)),
    routes: Type.Optional(Type.Array(RouteConfig)),
  },
  { additionalProperties: false },
)
export type ConfigFile = Static<typeof ConfigFile>
