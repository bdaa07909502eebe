import type { SessionRepo } from '../auth/sessions.js'
import type { ChatRepo } from './chats.js'
import type { DeletableUserRepo, KeyRepo, OrgRepo } from '../auth/types.js'
import type { ModelDefinition, UsageReport, UsageReportQuery } from '../contract/index.js'
import type { ModelSpec } from '../config/types.js'
import type { UsageSink } from '../contract/usage.js'
import type { CacheStore } from '../proxy/cache-store.js'
import type { RouteRepo } from './routes.js'

export interface ModelRepo {
  /** Upserts the config file's models (origin 'config'), removes config models no longer in the file
   *  (their usage rows stay), keeps API-created ones; ids are stable per name. Returns every model. */
  syncFromConfig(specs: ModelSpec[]): ModelDefinition[]
  list(): ModelDefinition[]
  /** A model created on the admin API (origin 'api'); throws SQLite's UNIQUE error when the name is taken. */
  create(spec: ModelSpec): ModelDefinition
  /** Replaces an API-created model's definition (and name); throws for a config model or an unknown id. */
  replace(id: string, spec: ModelSpec): ModelDefinition
  remove(id: string): void
}

/** A native engine process Cortex started, so a killed Cortex's leftovers can be reaped at the next start. */
export interface EngineProcessRecord {
  pid: number
  modelId: string
  replica: number
  /** argv[0] and args as spawned, to check a PID still belongs to the same program before killing it. */
  command: string[]
  startedAt: number
}

export interface PidRepo {
  add(rec: EngineProcessRecord): void
  remove(pid: number): void
  list(): EngineProcessRecord[]
}

/** The `settings` table: text values by key. Keys are the callers' (the store's `instance_id`, the settings service's). */
export interface SettingsRepo {
  get(key: string): string | null
  set(key: string, value: string): void
  delete(key: string): void
}

export interface UsageWriter extends UsageSink {
  /** Writes the rows kept after failed writes, in one transaction (the writer's timer does this too). */
  flush(): void
}

/** API keys, organizations and users: what the CLI's `keys` and `orgs` commands change beside a running gateway. */
export interface Accounts {
  keys: KeyRepo
  orgs: OrgRepo
  users: DeletableUserRepo
}

/** The accounts of a database opened without the data-directory lock (store/open.ts openDatabase). */
export interface AccountsDatabase extends Accounts {
  close(): void
}

export interface Store extends Accounts {
  /** This data directory's id, made at first open: the `ai.cortex.instance` label on its containers. */
  instanceId: string
  /** The completion caches of models and routes, unless they are kept in Redis (store/cache.ts). */
  cache: CacheStore
  /** The chat playground's conversations (store/chats.ts). */
  chats: ChatRepo
  models: ModelRepo
  /** Routes made on the admin API (store/routes.ts). */
  routes: RouteRepo
  pids: PidRepo
  /** Console sessions (auth/sessions.ts). */
  sessions: SessionRepo
  settings: SettingsRepo
  usage: UsageWriter
  /** Totals and percentiles of the usage rows written so far (store/usage-report.ts). */
  usageReport(query: UsageReportQuery): UsageReport
  /** Writes the usage rows kept after failed writes, closes the database and releases the data-directory lock. */
  close(): void
}
