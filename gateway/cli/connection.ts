import path from 'node:path'
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from '../config/load.js'
import { ADMIN_TOKEN_FILE, readAdminToken } from '../store/admin-token.js'
import { connectHost, readListening } from '../store/listening.js'
import { AdminClient, AdminError } from './admin-client.js'
import { CliError, type CliIO } from './io.js'

/** What the client commands were told on their command line; undefined = not given. */
export interface ClientFlags {
  url?: string
  config?: string
  dataDir?: string
}

export interface ClientArgs {
  flags: ClientFlags
  json: boolean
  help: boolean
  positionals: string[]
}

/** The options every client command takes; throws on a usage error (the caller prints it with the usage, exit 2). */
export function parseClientArgs(args: string[], { json = false } = {}): ClientArgs {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...(json && { json: { type: 'boolean' } }),
    },
  })
  if (values.url !== undefined) checkUrl(values.url)
  return {
    flags: { url: values.url?.replace(/\/+$/, ''), config: values.config, dataDir: values['data-dir'] },
    json: values.json === true,
    help: values.help === true,
    positionals,
  }
}

function checkUrl(raw: string): void {
  let url
  try {
    url = new URL(raw)
  } catch {
    throw new Error(`--url expects an http:// or https:// URL such as http://127.0.0.1:31313 (got "${raw}")`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`--url expects an http:// or https:// URL such as http://127.0.0.1:31313 (got "${raw}")`)
}

/** Where the gateway is and how to prove we are its admin. */
export interface Connection {
  url: string
  token: string | null
  /** Where the token came from (or would have): `CORTEX_ADMIN_TOKEN` or the token file's path. */
  tokenSource: string
}

/**
 * `--url`, else where the running `cortex serve` of the data directory recorded that it listens, else where it would
 * listen by the same resolution (flags > environment > file > defaults).
 * The config is read only when the URL or the token needs it, so `--url` with CORTEX_ADMIN_TOKEN works
 * even where the config file does not validate. Throws ConfigError, or CliError for a port no client can guess.
 */
export function resolveConnection(flags: ClientFlags, env: NodeJS.ProcessEnv): Connection {
  // As readAdminToken reads it: a blank variable does not count.
  const envToken = env.CORTEX_ADMIN_TOKEN?.trim()
  if (flags.url !== undefined && envToken) return { url: flags.url, token: envToken, tokenSource: 'CORTEX_ADMIN_TOKEN' }
  const config = loadConfig({ flags: { config: flags.config, dataDir: flags.dataDir }, env })
  const tokenSource = envToken ? 'CORTEX_ADMIN_TOKEN' : path.join(config.dataDir, ADMIN_TOKEN_FILE)
  const token = tokenFrom(config.dataDir, env, tokenSource)
  if (flags.url !== undefined) return { url: flags.url, token, tokenSource }
  // A running `cortex serve` of this data directory says where it listens, whatever the config says.
  const live = readListening(config.dataDir)
  if (live !== null) return { url: live.url, token, tokenSource }
  const { host, port } = config.server
  if (port === 0)
    throw new CliError(
      'the configuration sets port 0 (a free port picked at start): pass --url with the address `cortex serve` printed',
    )
  return { url: `http://${connectHost(host)}:${port}`, token, tokenSource }
}

function tokenFrom(dataDir: string, env: NodeJS.ProcessEnv, file: string): string | null {
  try {
    return readAdminToken(dataDir, env)
  } catch (err) {
    // Most often the file belongs to the user who runs `cortex serve` (it is written with mode 0600).
    throw new CliError(
      `cannot read the admin token in ${file}: ${(err as Error).message} — run as the user that runs \`cortex serve\`, or set CORTEX_ADMIN_TOKEN`,
      { cause: err },
    )
  }
}

/**
 * Resolves the connection, runs `command` with a client and closes it. Failures a person can act on
 * (gateway down, token missing, unreadable or refused, an error from the API) are printed and exit 1;
 * a config error exits 2 as in serve.
 */
export async function withClient(
  io: CliIO,
  flags: ClientFlags,
  command: (client: AdminClient, connection: Connection) => Promise<number>,
): Promise<number> {
  let connection
  try {
    connection = resolveConnection(flags, io.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`${err.message}\n`)
      return 2
    }
    if (!(err instanceof CliError)) throw err
    io.stderr(`${err.message}\n`)
    return 1
  }
  const client = new AdminClient(connection.url, connection.token)
  try {
    return await command(client, connection)
  } catch (err) {
    if (!(err instanceof AdminError || err instanceof CliError)) throw err
    io.stderr(`${explain(err, connection)}\n`)
    return 1
  } finally {
    await client.close()
  }
}

/** What went wrong and what to do about it, in words. */
export function explain(err: AdminError | CliError, connection: Connection): string {
  if (err instanceof CliError) return err.message
  const { url, tokenSource } = connection
  switch (err.kind) {
    case 'unreachable': {
      const refused = (err.cause as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED'
      const where = refused ? `Cortex is not running at ${url}` : `Cortex is not reachable at ${url} (${err.message})`
      return `${where}: start it with \`cortex serve\` (or pass --url)`
    }
    case 'timeout':
      return `Cortex at ${url} gave ${err.message}: it may be overloaded, or something else listens there (pass --url)`
    case 'no_token':
      return `no admin token: set CORTEX_ADMIN_TOKEN or run on the machine where \`cortex serve\` wrote ${tokenSource}`
    case 'unauthorized':
      // The gateway's own 401 message tells how to send a token, which the CLI did: say which one it sent.
      return (
        `the admin token was refused: the token from ${tokenSource} is not the one the \`cortex serve\` at ${url} uses ` +
        '(its CORTEX_ADMIN_TOKEN, or the admin-token file in its data directory)'
      )
    case 'api':
      return err.message
    case 'bad_response':
      return `unexpected answer from ${url}: ${err.message} — is that a Cortex gateway? (pass --url)`
  }
}
