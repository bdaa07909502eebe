import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { ConfigError } from '../config/load.js'
import { configJsonSchema } from '../config/schema.js'
import { startServer } from '../index.js'

const USAGE = `Usage: cortex <command> [options]

Commands:
  serve      run the gateway and engine manager (headless)
  schema     print the config file's JSON Schema (for editors: yaml-language-server)

Options for serve:
  --config <file>     config file (YAML)                     env CORTEX_CONFIG
  --data-dir <dir>    database, logs and admin token          env CORTEX_DATA_DIR
  --host <address>    address to listen on (127.0.0.1)       env CORTEX_HOST
  --port <port>       port to listen on (31313)               env CORTEX_PORT
  --allow-remote      allow a non-loopback --host while /v1 has no API keys

  -h, --help          show this help
  -v, --version       show the version
`

/** Runs the `cortex` command; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(USAGE)
    return command === undefined ? 2 : 0
  }
  if (command === '-v' || command === '--version') {
    process.stdout.write(`${version()}\n`)
    return 0
  }
  if (command === 'schema') {
    process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`)
    return 0
  }
  if (command !== 'serve') {
    process.stderr.write(`cortex: unknown command "${command}"\n\n${USAGE}`)
    return 2
  }
  let flags
  try {
    flags = parseServeFlags(rest)
  } catch (err) {
    process.stderr.write(`cortex serve: ${(err as Error).message}\n\n${USAGE}`)
    return 2
  }
  if (flags === 'help') {
    process.stdout.write(USAGE)
    return 0
  }
  return serve(flags)
}

function parseServeFlags(args: string[]) {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'allow-remote': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return 'help' as const
  let port: number | undefined
  if (values.port !== undefined) {
    port = Number(values.port)
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`--port expects a number from 0 to 65535 (got "${values.port}")`)
  }
  return { config: values.config, dataDir: values['data-dir'], host: values.host, port, allowRemote: values['allow-remote'] }
}

async function serve(flags: Exclude<ReturnType<typeof parseServeFlags>, 'help'>): Promise<number> {
  let server
  try {
    server = await startServer({ flags, env: process.env })
  } catch (err) {
    process.stderr.write(err instanceof ConfigError ? `${err.message}\n` : `cortex serve: ${(err as Error).message}\n`)
    return err instanceof ConfigError ? 2 : 1
  }
  const { core, url } = server
  const names = core.config.models.map((m) => m.name)
  process.stderr.write(
    `Cortex ${version()} listening on ${url} — OpenAI API at ${url}/v1 — ${names.length} model(s)` +
      `${names.length ? `: ${names.join(', ')}` : ''} — data in ${core.config.dataDir}\n`,
  )
  return new Promise<number>((resolve) => {
    let stopping = false
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        core.logger.warn({ signal }, 'second signal: exiting without waiting')
        process.exit(130)
      }
      stopping = true
      core.logger.info({ signal }, 'shutting down')
      server.close().then(
        () => resolve(0),
        (err: unknown) => {
          core.logger.error({ err }, 'shutdown failed')
          resolve(1)
        },
      )
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}

function version(): string {
  // dist/gateway/cli/main.js and gateway/cli/main.ts sit at different depths below package.json.
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'cortex' && pkg.version) return pkg.version
    } catch {
      continue
    }
  }
  return 'unknown'
}
