import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { ConfigError } from '../config/load.js'
import { configJsonSchema } from '../config/schema.js'
import { processIO, type CliIO } from './io.js'
import { keysCommand } from './keys.js'
import { modelsCommand } from './models.js'
import { orgsCommand } from './orgs.js'
import { statusCommand } from './status.js'
import { USAGE } from './usage.js'

/** Runs the `cortex` command; returns the process exit code. */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    io.stdout(USAGE)
    return command === undefined ? 2 : 0
  }
  if (command === '-v' || command === '--version') {
    io.stdout(`${version()}\n`)
    return 0
  }
  if (command === 'schema') {
    io.stdout(`${JSON.stringify(configJsonSchema(), null, 2)}\n`)
    return 0
  }
  if (command === 'models') return modelsCommand(rest, io)
  if (command === 'status') return statusCommand(rest, io)
  if (command === 'keys') return keysCommand(rest, io)
  if (command === 'orgs') return orgsCommand(rest, io)
  if (command !== 'serve') {
    io.stderr(`cortex: unknown command "${command}"\n\n${USAGE}`)
    return 2
  }
  let flags
  try {
    flags = parseServeFlags(rest)
  } catch (err) {
    io.stderr(`cortex serve: ${(err as Error).message}\n\n${USAGE}`)
    return 2
  }
  if (flags === 'help') {
    io.stdout(USAGE)
    return 0
  }
  return serve(flags, io)
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

async function serve(flags: Exclude<ReturnType<typeof parseServeFlags>, 'help'>, io: CliIO): Promise<number> {
  // Signal handlers go in before anything is announced: whoever reads "listening on" may signal at once, and a
  // signal that lands before its handler would kill the process without the drain. A second signal exits at once.
  let first: NodeJS.Signals | null = null
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (first) {
        io.stderr(`cortex serve: second ${signal}: exiting without waiting\n`)
        process.exit(130)
      }
      first = signal
      resolve(signal)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
  let server
  try {
    // Loaded here, not at the top: the client commands (models, status) need none of the core.
    const { startServer } = await import('../index.js')
    server = await startServer({ flags, env: io.env })
  } catch (err) {
    io.stderr(err instanceof ConfigError ? `${err.message}\n` : `cortex serve: ${(err as Error).message}\n`)
    return err instanceof ConfigError ? 2 : 1
  }
  const { core, url } = server
  const names = core.config.models.map((m) => m.name)
  io.stderr(
    `Cortex ${version()} listening on ${url} — OpenAI API at ${url}/v1 — ${names.length} model(s)` +
      `${names.length ? `: ${names.join(', ')}` : ''} — data in ${core.config.dataDir}\n`,
  )
  // As Jupyter does: a link that signs its opener in, once, within 5 minutes (the console's own page).
  const page = url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:')
  io.stderr(`Console: ${page}/?code=${core.signInCode().code} (signs you in; works once, for 5 minutes)\n`)
  const { auth, dataDir } = core.config
  if (auth.required && !core.store.keys.list().some((k) => k.revokedAt === null)) {
    io.stderr(
      `No API keys yet: /v1 answers 401 until you create one with \`cortex keys create --name <app> --data-dir ${dataDir}\`` +
        `${auth.allowLoopbackWithoutKey ? ' (callers on 127.0.0.1 need none: auth.allowLoopbackWithoutKey)' : ''}\n`,
    )
  }
  const signal = await signalled
  core.logger.info({ signal }, 'shutting down')
  try {
    await server.close()
    return 0
  } catch (err) {
    core.logger.error({ err }, 'shutdown failed')
    return 1
  }
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
