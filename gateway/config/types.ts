import type { ModelDefinition } from '../contract/index.js'
import type { RouteDefinition } from '../contract/routes.js'

/** A model from the config file, normalized; the store assigns its id. */
export type ModelSpec = Omit<ModelDefinition, 'id'>

/** The whole configuration after flags > environment > file > defaults, validated, normalized and frozen. */
export interface CortexConfig {
  /** Absolute path of the config file read, or null when none was given. */
  configPath: string | null
  dataDir: string
  server: {
    host: string
    port: number
    allowedHosts: string[]
    corsOrigins: string[]
    bodyLimit: number
    /** How long SIGINT/SIGTERM waits for in-flight requests. */
    shutdownTimeoutMs: number
    /** Time to receive a request's headers, and its whole body; 0 = never. headersTimeoutMs <= requestTimeoutMs. */
    headersTimeoutMs: number
    requestTimeoutMs: number
    maxConnectionsPerClient: number
    /** Whether X-Forwarded-Proto from a proxy in front is believed. */
    trustProxy: boolean
    /** `--allow-remote`: permits binding a non-loopback address while /v1 is keyless. */
    allowRemote: boolean
  }
  auth: { required: boolean; allowLoopbackWithoutKey: boolean }
  /** redis: a Redis URL whose counters gateway processes that know the same keys share; null = limits in memory. */
  limits: { redis: string | null }
  /** redis: where the completion caches are kept (default limits.redis); null = SQLite in the data directory. */
  cache: { redis: string | null }
  metrics: { port: number | null }
  logging: { prompts: boolean; level: string; format: 'auto' | 'json' | 'pretty' }
  /** llamaServer: from the file, else CORTEX_LLAMA_SERVER, else null (the process driver then looks on PATH). */
  engines: { stopOnExit: boolean; llamaServer: string | null }
  models: ModelSpec[]
  /** Virtual models: their targets name models by their configured name. */
  routes: RouteDefinition[]
}

/** What `cortex serve` was told on its command line; undefined = not given. */
export interface CliFlags {
  config?: string
  dataDir?: string
  host?: string
  port?: number
  allowRemote?: boolean
}

/** One problem in a config file: where, and what was expected there. */
export interface ConfigIssue {
  file: string
  /** JSON-pointer-like path inside the file, e.g. `/models/0/ttl`. */
  path: string
  /** 1-based line in the file, when known. */
  line: number | null
  /** What was expected there, in words (may include what was found). */
  expected: string
}
