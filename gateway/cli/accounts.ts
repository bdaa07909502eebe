import type { ParseArgsConfig } from 'node:util'
import { ConfigError, loadConfig } from '../config/load.js'
import { CortexError } from '../contract/errors.js'
import { openDatabase } from '../store/open.js'
import type { AccountsDatabase } from '../store/types.js'
import { CliError, type CliIO } from './io.js'

/** The options every command on the data directory takes. */
export const DATA_DIR_OPTIONS = {
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options']

/**
 * Resolves the data directory as `cortex serve` does (--data-dir, CORTEX_DATA_DIR, the config file, the default),
 * opens its database without the lock and runs `command`. A config error exits 2 as in serve; an error a person can
 * act on (CliError, a CortexError from the store) is printed and exits 1.
 */
export function withAccounts(
  io: CliIO,
  flags: { config?: string; 'data-dir'?: string },
  command: string,
  run: (db: AccountsDatabase) => number,
): number {
  let dataDir
  try {
    dataDir = loadConfig({ flags: { config: flags.config, dataDir: flags['data-dir'] }, env: io.env }).dataDir
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    io.stderr(`${err.message}\n`)
    return 2
  }
  let db
  try {
    db = openDatabase(dataDir)
  } catch (err) {
    io.stderr(`cortex ${command}: cannot open the database in ${dataDir}: ${(err as Error).message}\n`)
    return 1
  }
  try {
    return run(db)
  } catch (err) {
    if (!(err instanceof CliError || err instanceof CortexError)) throw err
    io.stderr(`cortex ${command}: ${err.message}\n`)
    return 1
  } finally {
    db.close()
  }
}
