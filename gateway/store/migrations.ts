import fs from 'node:fs'
import path from 'node:path'
import type Database from 'better-sqlite3'

export interface Migration {
  version: number
  up(db: Database.Database): void
}

/** Numbered, append-only; `PRAGMA user_version` records the last one applied. Never edit a shipped one. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    up: (db) =>
      db.exec(`
        CREATE TABLE models (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          origin TEXT NOT NULL CHECK (origin IN ('config', 'api')),
          definition TEXT NOT NULL CHECK (json_valid(definition)),
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE usage (
          id INTEGER PRIMARY KEY,
          ts INTEGER NOT NULL,
          request_id TEXT NOT NULL,
          model TEXT NOT NULL,
          replica INTEGER,
          endpoint TEXT NOT NULL,
          status INTEGER NOT NULL,
          stream INTEGER NOT NULL,
          prompt_tokens INTEGER,
          completion_tokens INTEGER,
          ttft_ms REAL,
          total_ms REAL NOT NULL,
          bytes_in INTEGER NOT NULL,
          bytes_out INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX usage_ts ON usage (ts);
        CREATE INDEX usage_model_ts ON usage (model, ts);
        CREATE TABLE engine_processes (
          pid INTEGER PRIMARY KEY,
          model_id TEXT NOT NULL,
          replica INTEGER NOT NULL,
          command TEXT NOT NULL CHECK (json_valid(command)),
          started_at INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE settings (
          key TEXT PRIMARY KEY,
          value TEXT NOT NULL
        ) STRICT;
      `),
  },
  {
    version: 2,
    // Keys are revoked, never deleted, so usage rows keep naming them. usage.key_id has no foreign key: a batch of
    // usage rows is history and must never fail as a whole because one row names a key this database lacks.
    // A user's key is in the user's organization whatever the caller: its CHECK and the (user_id, org_id) foreign key.
    up: (db) =>
      db.exec(`
        CREATE TABLE orgs (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          created_at INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE users (
          id TEXT PRIMARY KEY,
          org_id TEXT NOT NULL REFERENCES orgs (id),
          name TEXT NOT NULL UNIQUE,
          role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
          password_hash TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          UNIQUE (id, org_id)
        ) STRICT;
        CREATE INDEX users_org ON users (org_id);
        CREATE TABLE api_keys (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          hash TEXT NOT NULL UNIQUE,
          prefix TEXT NOT NULL,
          org_id TEXT REFERENCES orgs (id),
          user_id TEXT REFERENCES users (id) CHECK (user_id IS NULL OR org_id IS NOT NULL),
          models TEXT CHECK (models IS NULL OR json_valid(models)),
          scopes TEXT NOT NULL CHECK (json_valid(scopes)),
          ips TEXT CHECK (ips IS NULL OR json_valid(ips)),
          rpm INTEGER,
          tpm INTEGER,
          concurrency INTEGER,
          daily_tokens INTEGER,
          created_at INTEGER NOT NULL,
          expires_at INTEGER,
          revoked_at INTEGER,
          FOREIGN KEY (user_id, org_id) REFERENCES users (id, org_id)
        ) STRICT;
        ALTER TABLE usage ADD COLUMN key_id TEXT;
        ALTER TABLE usage ADD COLUMN org_id TEXT;
        CREATE INDEX usage_key_ts ON usage (key_id, ts);
      `),
  },
  {
    version: 3,
    // Console sessions. The cookie's secret is kept only as its SHA-256 (a copy of the database signs nobody in);
    // `id` is a second, public id for listing and revoking. A null user_id is the admin token's built-in admin.
    up: (db) =>
      db.exec(`
        CREATE TABLE sessions (
          id TEXT PRIMARY KEY,
          secret_hash TEXT NOT NULL UNIQUE,
          user_id TEXT REFERENCES users (id),
          created_at INTEGER NOT NULL,
          last_seen_at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL,
          user_agent TEXT,
          address TEXT
        ) STRICT;
        CREATE INDEX sessions_expires ON sessions (expires_at);
      `),
  },
  {
    version: 4,
    // Routing policies: key tags a route's clients rule matches, and the route a usage row came through (its model
    // column stays the model that served).
    up: (db) =>
      db.exec(`
        ALTER TABLE api_keys ADD COLUMN tags TEXT;
        ALTER TABLE usage ADD COLUMN route TEXT;
      `),
  },
  {
    version: 5,
    // The chat playground. chats.user_id has no foreign key: the admin token's built-in admin ('admin') is no row of
    // users. Messages form a tree by parent_id; `seq` is the FTS5 rowid (a table without an INTEGER PRIMARY KEY may get
    // new rowids from VACUUM, which would cut the index off its rows). usage.user names the console user of a chat's
    // request; users.deleted_at keeps a deleted user's row, since revoked keys and usage rows still name it.
    up: (db) =>
      db.exec(`
        CREATE TABLE chats (
          id TEXT PRIMARY KEY,
          user_id TEXT NOT NULL,
          title TEXT NOT NULL,
          model TEXT NOT NULL,
          params TEXT NOT NULL CHECK (json_valid(params)),
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX chats_user_updated ON chats (user_id, updated_at);
        CREATE TABLE chat_messages (
          seq INTEGER PRIMARY KEY,
          id TEXT NOT NULL UNIQUE,
          chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
          parent_id TEXT REFERENCES chat_messages (id) ON DELETE CASCADE,
          role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
          content TEXT NOT NULL,
          reasoning TEXT,
          model TEXT,
          params TEXT CHECK (params IS NULL OR json_valid(params)),
          state TEXT NOT NULL CHECK (state IN ('streaming', 'complete', 'cut_off', 'failed')),
          error TEXT,
          request_id TEXT,
          ttft_ms REAL,
          total_ms REAL,
          prompt_tokens INTEGER,
          completion_tokens INTEGER,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX chat_messages_chat ON chat_messages (chat_id, seq);
        CREATE INDEX chat_messages_parent ON chat_messages (parent_id);
        CREATE VIRTUAL TABLE chat_messages_fts USING fts5 (content, content = 'chat_messages', content_rowid = 'seq');
        CREATE TRIGGER chat_messages_fts_insert AFTER INSERT ON chat_messages BEGIN
          INSERT INTO chat_messages_fts (rowid, content) VALUES (new.seq, new.content);
        END;
        CREATE TRIGGER chat_messages_fts_delete AFTER DELETE ON chat_messages BEGIN
          INSERT INTO chat_messages_fts (chat_messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
        END;
        CREATE TRIGGER chat_messages_fts_update AFTER UPDATE OF content ON chat_messages BEGIN
          INSERT INTO chat_messages_fts (chat_messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
          INSERT INTO chat_messages_fts (rowid, content) VALUES (new.seq, new.content);
        END;
        ALTER TABLE usage ADD COLUMN user TEXT;
        CREATE INDEX usage_user_ts ON usage (user, ts);
        ALTER TABLE users ADD COLUMN deleted_at INTEGER;
      `),
  },
  {
    version: 6,
    // The completion cache (issue 14): answers by the hash of what decides them, kept within each model's or route's
    // maxBytes (least recently used out first). It holds prompts' answers by design; logging.prompts is about logs.
    // usage.cache marks hits and misses (null: not cacheable); api_keys.cache = 0 opts a key out. Routes made on the
    // admin API live in `routes`, as models do in `models`.
    up: (db) =>
      db.exec(`
        CREATE TABLE completion_cache (
          key TEXT PRIMARY KEY,
          scope TEXT NOT NULL,
          kind TEXT NOT NULL CHECK (kind IN ('json', 'sse')),
          content_type TEXT NOT NULL,
          body BLOB NOT NULL,
          meta TEXT NOT NULL CHECK (json_valid(meta)),
          bytes INTEGER NOT NULL,
          created_at INTEGER NOT NULL,
          expires_at INTEGER,
          used_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX completion_cache_scope_used ON completion_cache (scope, used_at);
        ALTER TABLE usage ADD COLUMN cache TEXT CHECK (cache IS NULL OR cache IN ('hit', 'miss'));
        ALTER TABLE api_keys ADD COLUMN cache INTEGER;
        CREATE TABLE routes (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          definition TEXT NOT NULL CHECK (json_valid(definition)),
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        ) STRICT;
      `),
  },
]

export interface MigrateOptions {
  /** Where `backups/` goes. */
  dataDir: string
  now: () => number
  list?: readonly Migration[]
}

export interface MigrateResult {
  from: number
  to: number
  /** The backup copy taken before migrating, or null for a fresh database or one already current. */
  backup: string | null
}

/** Brings the schema to the newest version, after a backup copy of a database that already holds data. */
export function migrate(db: Database.Database, { dataDir, now, list = migrations }: MigrateOptions): MigrateResult {
  const from = db.pragma('user_version', { simple: true }) as number
  const latest = list.at(-1)?.version ?? 0
  if (from > latest) {
    throw new Error(
      `database schema v${from} is newer than this Cortex (knows v${latest}): upgrade Cortex or use another --data-dir`,
    )
  }
  const pending = list.filter((m) => m.version > from)
  if (pending.length === 0) return { from, to: from, backup: null }
  const backup = isEmpty(db) ? null : backupTo(db, path.join(dataDir, 'backups'), `cortex.db.v${from}-${timestamp(now())}.bak`)
  for (const migration of pending) {
    // IMMEDIATE takes the write lock before the version is read again: a CLI command opening the database without
    // the data-directory lock (store/open.ts openDatabase) may be migrating it at the same moment.
    db.transaction(() => {
      if ((db.pragma('user_version', { simple: true }) as number) >= migration.version) return
      migration.up(db)
      db.pragma(`user_version = ${migration.version}`)
    }).immediate()
  }
  return { from, to: latest, backup }
}

function isEmpty(db: Database.Database): boolean {
  const { n } = db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'").get() as { n: number }
  return n === 0
}

/** VACUUM INTO writes a consistent copy (WAL content included) synchronously, inside the open connection. */
function backupTo(db: Database.Database, dir: string, name: string): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const file = path.join(dir, name)
  db.prepare('VACUUM INTO ?').run(file)
  return file
}

/** 2025-01-31T12-00-00-000Z: an ISO time that is a valid file name everywhere. */
function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[:.]/g, '-')
}
