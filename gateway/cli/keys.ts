import { parseArgs, type ParseArgsConfig } from 'node:util'
import { createKey, keyView, parseKeySpec } from '../auth/keys.js'
import type { ApiKeyRecord, ApiKeyView, KeyCreateBody, KeyCreated, Scope } from '../contract/keys.js'
import { CortexError } from '../contract/errors.js'
import type { AccountsDatabase } from '../store/types.js'
import { DATA_DIR_OPTIONS, withAccounts } from './accounts.js'
import { CliError, type CliIO } from './io.js'
import { table } from './table.js'
import { USAGE, usageError } from './usage.js'

const CREATE_OPTIONS = {
  ...DATA_DIR_OPTIONS,
  name: { type: 'string' },
  models: { type: 'string', multiple: true },
  scopes: { type: 'string', multiple: true },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  concurrency: { type: 'string' },
  'daily-tokens': { type: 'string' },
  expires: { type: 'string' },
  ip: { type: 'string', multiple: true },
  tags: { type: 'string', multiple: true },
  'no-cache': { type: 'boolean' },
  org: { type: 'string' },
  user: { type: 'string' },
  key: { type: 'string' },
} as const satisfies ParseArgsConfig['options']

/** KeyCreateBody's fields by the flag that sets them, for messages about them. */
const FLAGS: Record<string, string> = { dailyTokens: '--daily-tokens', ips: '--ip' }

/** `cortex keys create|list|revoke`, on the data directory itself (no running gateway needed); returns the exit code. */
export function keysCommand(args: string[], io: CliIO): number {
  const [sub, ...rest] = args
  if (sub === '-h' || sub === '--help') {
    io.stdout(USAGE)
    return 0
  }
  if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') {
    const problem = sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`
    return usageError(io, 'keys', `${problem} (expected create, list or revoke)`)
  }
  const command = `keys ${sub}`
  let parsed
  try {
    parsed = parseArgs({ args: rest, strict: true, allowPositionals: true, options: CREATE_OPTIONS })
    if (sub !== 'create') rejectCreateFlags(parsed.values)
  } catch (err) {
    return usageError(io, command, (err as Error).message)
  }
  const { values, positionals } = parsed
  if (values.help) {
    io.stdout(USAGE)
    return 0
  }
  if (sub === 'revoke') {
    if (positionals.length !== 1)
      return usageError(
        io,
        command,
        positionals.length === 0 ? 'missing the key’s id or name' : `unexpected argument "${positionals[1]}"`,
      )
    if (values.json) return usageError(io, command, '--json is for create and list')
    return withAccounts(io, values, command, (db) => revoke(db, io, positionals[0]!))
  }
  if (positionals.length > 0) return usageError(io, command, `unexpected argument "${positionals[0]}"`)
  if (sub === 'list') return withAccounts(io, values, command, (db) => list(db, io, values.json === true))
  let body: KeyCreateBody
  try {
    body = createBody(values)
  } catch (err) {
    return usageError(io, command, (err as Error).message)
  }
  return withAccounts(io, values, command, (db) => create(db, io, body, values.json === true))
}

type CreateValues = ReturnType<typeof parseArgs<{ options: typeof CREATE_OPTIONS; allowPositionals: true }>>['values']

function rejectCreateFlags(values: CreateValues): void {
  const extra = Object.keys(values).find((flag) => !(flag in DATA_DIR_OPTIONS))
  if (extra !== undefined) throw new Error(`--${extra} is an option of keys create`)
}

/** The flags as the admin API's body, so that auth/keys.ts checks both the same way. */
function createBody(values: CreateValues): KeyCreateBody {
  if (values.name === undefined) throw new Error('missing --name: the key’s name, e.g. --name ci')
  const body: KeyCreateBody = { name: values.name }
  if (values.models !== undefined) body.models = commaList(values.models)
  // parseKeySpec checks each scope: these are still the words typed.
  if (values.scopes !== undefined) body.scopes = commaList(values.scopes) as Scope[]
  if (values.ip !== undefined) body.ips = commaList(values.ip)
  if (values.tags !== undefined) body.tags = commaList(values.tags)
  if (values['no-cache'] === true) body.cache = false
  const limits = { rpm: values.rpm, tpm: values.tpm, concurrency: values.concurrency, dailyTokens: values['daily-tokens'] }
  for (const [field, text] of Object.entries(limits)) {
    if (text !== undefined) body[field as keyof typeof limits] = wholeNumber(text, FLAGS[field] ?? `--${field}`)
  }
  if (values.expires !== undefined) body.expires = values.expires
  if (values.org !== undefined) body.org = values.org
  if (values.user !== undefined) body.user = values.user
  if (values.key !== undefined) body.key = values.key
  return body
}

/** `--models a,b --models c` → [a, b, c]. */
function commaList(values: string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((v) => v.trim())
}

function wholeNumber(text: string, flag: string): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${flag} expects a whole number of at least 1 (got "${text}")`)
  return n
}

function create(db: AccountsDatabase, io: CliIO, body: KeyCreateBody, json: boolean): number {
  const now = Date.now()
  let spec
  try {
    spec = parseKeySpec(body, db, now)
  } catch (err) {
    if (!(err instanceof CortexError)) throw err
    io.stderr(`cortex keys create: ${asFlags(err)}\n`)
    return 2
  }
  const { record, secret } = createKey(db.keys, spec)
  const created: KeyCreated = { key: secret, apiKey: viewOf(db, record, now) }
  // The key alone on stdout, so `KEY=$(cortex keys create --name ci)` works; the note goes to the terminal.
  io.stdout(json ? `${JSON.stringify(created, null, 2)}\n` : `${secret}\n`)
  io.stderr(`created API key "${record.name}" (${record.id}); the key is shown this once: store it now\n`)
  return 0
}

/** The message with the body's field names as the flags that set them: `--daily-tokens: …`. */
function asFlags(err: CortexError): string {
  const param = err.details?.param
  if (param === undefined || !err.message.startsWith(`${param}: `)) return err.message
  return `${FLAGS[param] ?? `--${param}`}: ${err.message.slice(param.length + 2)}`
}

function list(db: AccountsDatabase, io: CliIO, json: boolean): number {
  const now = Date.now()
  const views = db.keys.list().map((k) => viewOf(db, k, now))
  if (json) io.stdout(`${JSON.stringify(views, null, 2)}\n`)
  else if (views.length === 0) io.stdout('no API keys: create one with `cortex keys create --name <name>`\n')
  else io.stdout(keysTable(views))
  return 0
}

function revoke(db: AccountsDatabase, io: CliIO, wanted: string): number {
  const before = db.keys.get(wanted)
  if (before === undefined) throw new CliError(`no API key with id or name "${wanted}"; \`cortex keys list\` shows them`)
  const record = db.keys.revoke(before.id)!
  const at = new Date(record.revokedAt!).toISOString()
  if (before.revokedAt !== null) io.stdout(`API key "${record.name}" (${record.id}) was already revoked at ${at}\n`)
  else io.stdout(`revoked API key "${record.name}" (${record.id}): it is refused from now on\n`)
  return 0
}

function viewOf(db: AccountsDatabase, record: ApiKeyRecord, now: number): ApiKeyView {
  const org = record.orgId === null ? null : (db.orgs.get(record.orgId)?.name ?? null)
  const user = record.userId === null ? null : (db.users.get(record.userId)?.name ?? null)
  return keyView(record, { org, user }, now)
}

function keysTable(views: ApiKeyView[]): string {
  const header = ['ID', 'NAME', 'PREFIX', 'ORG', 'USER', 'MODELS', 'SCOPES', 'LIMITS', 'EXPIRES', 'STATE']
  const rows = views.map((k) => [
    k.id,
    k.name,
    k.prefix,
    k.org ?? '-',
    k.user ?? '-',
    k.models?.join(',') ?? 'all',
    k.scopes.join(','),
    limitsText(k.limits),
    k.expiresAt === null ? 'never' : k.expiresAt.replace(/:\d\d\.\d{3}Z$/, 'Z'),
    k.state,
  ])
  return table([header, ...rows])
}

function limitsText(limits: ApiKeyView['limits']): string {
  const parts = [
    ['rpm', limits.rpm],
    ['tpm', limits.tpm],
    ['concurrency', limits.concurrency],
    ['daily-tokens', limits.dailyTokens],
  ].filter(([, v]) => v !== null)
  return parts.length === 0 ? '-' : parts.map(([name, v]) => `${name}=${v}`).join(',')
}
