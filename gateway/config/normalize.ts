import path from 'node:path'
import {
  CACHE_DEFAULTS,
  type CacheConfig,
  type CachePolicy,
  type ConfigFile,
  type ModelConfig,
  type RouteConfig,
  type RouteDefinition,
  type ScheduleWindow,
} from '../contract/index.js'
import { parseByteSize, parseDuration } from './duration.js'
import type { CortexConfig, ModelSpec } from './types.js'

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 31313,
  bodyLimit: 64 * 1024 * 1024,
  shutdownTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxConnectionsPerClient: 1024,
  logLevel: 'info',
  model: { replicas: 1, ttlMs: 0, queueSize: 32, queueTimeoutMs: 60_000, startTimeoutMs: 5 * 60_000 },
} as const

/** Values from flags and environment, already resolved; each one given here beats the file. */
export interface Overrides {
  configPath: string | null
  dataDir: string
  host?: string
  port?: number
  allowRemote?: boolean
  /** CORTEX_LLAMA_SERVER, used only when the file sets no engines.llamaServer. */
  llamaServer?: string
}

export interface NormalizeContext {
  /** Relative paths in the file resolve from here (the config file's folder). */
  baseDir: string
  /** Relative paths from flags and environment resolve from here. */
  cwd: string
  env: NodeJS.ProcessEnv
  exists(path: string): boolean
}

/** A schema-valid, rule-checked file plus overrides → the configuration, with defaults, ms, bytes and absolute paths. */
export function buildConfig(file: ConfigFile, overrides: Overrides, ctx: NormalizeContext): CortexConfig {
  const server = file.server ?? {}
  const fileLlamaServer = file.engines?.llamaServer
  return {
    configPath: overrides.configPath,
    dataDir: overrides.dataDir,
    server: {
      host: overrides.host ?? server.host ?? DEFAULTS.host,
      port: overrides.port ?? server.port ?? DEFAULTS.port,
      allowedHosts: server.allowedHosts ?? [],
      corsOrigins: server.cors?.origins ?? [],
      bodyLimit: server.bodyLimit === undefined ? DEFAULTS.bodyLimit : parseByteSize(server.bodyLimit),
      shutdownTimeoutMs: durationOr(server.shutdownTimeout, DEFAULTS.shutdownTimeoutMs),
      headersTimeoutMs: durationOr(server.headersTimeout, DEFAULTS.headersTimeoutMs),
      requestTimeoutMs: durationOr(server.requestTimeout, DEFAULTS.requestTimeoutMs),
      maxConnectionsPerClient: server.maxConnectionsPerClient ?? DEFAULTS.maxConnectionsPerClient,
      trustProxy: server.trustProxy ?? false,
      allowRemote: overrides.allowRemote ?? false,
    },
    auth: { required: file.auth?.required ?? true, allowLoopbackWithoutKey: file.auth?.allowLoopbackWithoutKey ?? false },
    limits: { redis: file.limits?.redis ?? null },
    // Gateways that share limits share their caches too, unless the file says otherwise (null: SQLite).
    cache: { redis: file.cache?.redis === undefined ? (file.limits?.redis ?? null) : file.cache.redis },
    metrics: { port: file.metrics?.port ?? null },
    logging: {
      prompts: file.logging?.prompts ?? false,
      level: file.logging?.level ?? DEFAULTS.logLevel,
      format: file.logging?.format ?? 'auto',
    },
    engines: {
      stopOnExit: file.engines?.stopOnExit ?? true,
      llamaServer:
        fileLlamaServer != null
          ? resolveCommand(fileLlamaServer, ctx.baseDir)
          : overrides.llamaServer !== undefined
            ? resolveCommand(overrides.llamaServer, ctx.cwd)
            : null,
    },
    models: (file.models ?? []).map((m) => toModelSpec(m, ctx)),
    routes: (file.routes ?? []).map((r) => toRouteDefinition(r, file.models ?? [])),
  }
}

/** A route entry with its model references (names or aliases, checked by route-rules.ts) as model names. */
function toRouteDefinition(r: RouteConfig, models: ReadonlyArray<Pick<ModelConfig, 'name' | 'aliases'>>): RouteDefinition {
  const nameOf = (ref: string) => models.find((m) => m.name === ref || (m.aliases ?? []).includes(ref))?.name ?? ref
  return {
    name: r.name,
    aliases: r.aliases ?? [],
    targets: r.targets.map((t) => ({ ...t, model: nameOf(t.model) })),
    fallback: r.fallback === undefined ? null : nameOf(r.fallback),
    ...(r.cache !== undefined && { cache: toCachePolicy(r.cache) }),
    origin: 'config',
  }
}

/** A model's or route's `cache:` with its defaults, durations in ms and sizes in bytes. */
export function toCachePolicy(c: CacheConfig): CachePolicy {
  return {
    ttlMs: c.ttl === undefined ? CACHE_DEFAULTS.ttlMs : parseDuration(c.ttl),
    maxBytes: c.maxBytes === undefined ? CACHE_DEFAULTS.maxBytes : parseByteSize(c.maxBytes),
    shared: c.shared ?? CACHE_DEFAULTS.shared,
  }
}

function durationOr(value: string | number | undefined, fallback: number): number {
  return value === undefined ? fallback : parseDuration(value)
}

/** One model entry of a file (or an admin API body), normalized; `origin` is the caller's to set. */
export function toModelSpec(m: ModelConfig, ctx: NormalizeContext): ModelSpec {
  const apiKey = m.apiKey ?? (m.apiKeyEnv === undefined ? undefined : ctx.env[m.apiKeyEnv])
  return {
    name: m.name,
    aliases: m.aliases ?? [],
    engine: m.engine,
    runtime: m.runtime,
    ...(m.source !== undefined && { source: resolveSource(m, m.source, ctx) }),
    args: m.args ?? [],
    env: m.env ?? {},
    replicas: m.replicas ?? DEFAULTS.model.replicas,
    ttlMs: m.ttl === undefined ? DEFAULTS.model.ttlMs : parseDuration(m.ttl),
    pinned: m.pinned ?? false,
    ...(m.swapGroup !== undefined && { swapGroup: m.swapGroup }),
    ...(m.schedule !== undefined && { schedule: m.schedule.map(toWindow), preload: m.preload ?? false }),
    ...(m.drainTimeout !== undefined && { drainTimeoutMs: parseDuration(m.drainTimeout) }),
    ...(m.maxConcurrent !== undefined && { maxConcurrent: m.maxConcurrent }),
    queue: {
      size: m.queue?.size ?? DEFAULTS.model.queueSize,
      timeoutMs: m.queue?.timeout === undefined ? DEFAULTS.model.queueTimeoutMs : parseDuration(m.queue.timeout),
    },
    startTimeoutMs: m.startTimeout === undefined ? DEFAULTS.model.startTimeoutMs : parseDuration(m.startTimeout),
    gpus: m.gpus ?? 'all',
    ...(m.image != null && { image: m.image }),
    ...(m.network !== undefined && { network: m.network }),
    baseUrls: m.baseUrl === undefined ? [] : typeof m.baseUrl === 'string' ? [m.baseUrl] : m.baseUrl,
    ...(apiKey !== undefined && { apiKey }),
    ...(m.upstreamModel !== undefined && { upstreamModel: m.upstreamModel }),
    ...(m.cache !== undefined && { cache: toCachePolicy(m.cache) }),
    origin: 'config',
  }
}

const clockMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))

/** A schedule window with its times as minutes and the machine's time zone where it names none. */
function toWindow(w: NonNullable<ModelConfig['schedule']>[number]): ScheduleWindow {
  return {
    days: w.days ?? [],
    from: clockMinutes(w.from),
    to: clockMinutes(w.to),
    timeZone: w.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
  }
}

const HF_REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/

/** GGUF paths and local dirs resolve from the file's folder; vLLM's `org/name` stays a repo id unless that path exists. */
function resolveSource(m: ModelConfig, source: string, ctx: NormalizeContext): string {
  const local = path.resolve(ctx.baseDir, source)
  if (m.engine === 'vllm' && HF_REPO_ID.test(source) && !ctx.exists(local)) return source
  return local
}

/** A value with a path separator is a path (resolved from `base`); a bare name is a command looked up on PATH. */
function resolveCommand(value: string, base: string): string {
  return /[\\/]/.test(value) ? path.resolve(base, value) : value
}
