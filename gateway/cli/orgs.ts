import { parseArgs } from 'node:util'
import { orgView } from '../auth/keys.js'
import type { CliIO } from './io.js'
import { DATA_DIR_OPTIONS, withAccounts } from './accounts.js'
import { table } from './table.js'
import { USAGE, usageError } from './usage.js'

/** `cortex orgs create|list`, on the data directory itself (no running gateway needed); returns the exit code. */
export function orgsCommand(args: string[], io: CliIO): number {
  const [sub, ...rest] = args
  if (sub === '-h' || sub === '--help') {
    io.stdout(USAGE)
    return 0
  }
  if (sub !== 'create' && sub !== 'list') {
    const problem = sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`
    return usageError(io, 'orgs', `${problem} (expected create or list)`)
  }
  const command = `orgs ${sub}`
  let parsed
  try {
    parsed = parseArgs({ args: rest, strict: true, allowPositionals: true, options: DATA_DIR_OPTIONS })
  } catch (err) {
    return usageError(io, command, (err as Error).message)
  }
  const { values, positionals } = parsed
  if (values.help) {
    io.stdout(USAGE)
    return 0
  }
  const json = values.json === true
  if (sub === 'list') {
    if (positionals.length > 0) return usageError(io, command, `unexpected argument "${positionals[0]}"`)
    return withAccounts(io, values, command, (db) => {
      const views = db.orgs.list().map(orgView)
      if (json) io.stdout(`${JSON.stringify(views, null, 2)}\n`)
      else if (views.length === 0) io.stdout('no organizations: create one with `cortex orgs create <name>`\n')
      else io.stdout(table([['ID', 'NAME', 'CREATED'], ...views.map((o) => [o.id, o.name, o.createdAt])]))
      return 0
    })
  }
  const [name, extra] = positionals
  if (name === undefined) return usageError(io, command, 'missing the organization’s name')
  if (extra !== undefined) return usageError(io, command, `unexpected argument "${extra}"`)
  return withAccounts(io, values, command, (db) => {
    const org = orgView(db.orgs.create(name))
    io.stdout(json ? `${JSON.stringify(org, null, 2)}\n` : `created organization "${org.name}" (${org.id})\n`)
    return 0
  })
}
