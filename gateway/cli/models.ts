import type { ModelView } from '../contract/admin.js'
import { AdminError, type AdminClient, type StartDiagnosis } from './admin-client.js'
import { parseClientArgs, withClient, type ClientArgs } from './connection.js'
import { CliError, type CliIO } from './io.js'
import { USAGE, usageError } from './usage.js'
import { table } from './table.js'

const SUBCOMMANDS = ['list', 'start', 'stop'] as const
type Subcommand = (typeof SUBCOMMANDS)[number]

/** `cortex models list|start|stop`; returns the exit code. */
export async function modelsCommand(args: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = args
  if (sub === '-h' || sub === '--help') {
    io.stdout(USAGE)
    return 0
  }
  if (sub === undefined) return usageError(io, 'models', 'missing subcommand: list, start or stop')
  if (!isSubcommand(sub)) return usageError(io, 'models', `unknown subcommand "${sub}" (expected list, start or stop)`)
  let parsed: ClientArgs
  try {
    parsed = parseClientArgs(rest, { json: sub === 'list' })
  } catch (err) {
    return usageError(io, `models ${sub}`, (err as Error).message)
  }
  if (parsed.help) {
    io.stdout(USAGE)
    return 0
  }
  const { positionals } = parsed
  if (sub === 'list') {
    if (positionals.length > 0) return usageError(io, 'models list', `unexpected argument "${positionals[0]}"`)
    return withClient(io, parsed.flags, (client) => list(client, io, parsed.json))
  }
  const [name, extra] = positionals
  if (name === undefined) return usageError(io, `models ${sub}`, 'missing the model name (or alias)')
  if (extra !== undefined) return usageError(io, `models ${sub}`, `unexpected argument "${extra}"`)
  return withClient(io, parsed.flags, (client) => (sub === 'start' ? start(client, io, name) : stop(client, io, name)))
}

function isSubcommand(value: string): value is Subcommand {
  return (SUBCOMMANDS as readonly string[]).includes(value)
}

async function list(client: AdminClient, io: CliIO, json: boolean): Promise<number> {
  const models = await client.listModels()
  if (json) io.stdout(`${JSON.stringify(models, null, 2)}\n`)
  else if (models.length === 0) io.stdout('no models: declare some in the config file (models:) or create them in the app\n')
  else io.stdout(modelsTable(models))
  return 0
}

async function start(client: AdminClient, io: CliIO, wanted: string): Promise<number> {
  const model = findModel(await client.listModels(), wanted)
  io.stdout(`starting ${model.name}…\n`)
  let view
  try {
    view = await client.startModel(model.id)
  } catch (err) {
    if (err instanceof AdminError && err.details.diagnosis) {
      io.stderr(failure(err.message, err.details.diagnosis))
      return 1
    }
    throw err
  }
  const { status } = view
  const context = status.contextLength === null ? '' : `, context ${status.contextLength}`
  io.stdout(`${view.name} is ${status.state} (${replicaCount(view)} replicas${context})\n`)
  return status.state === 'running' ? 0 : 1
}

async function stop(client: AdminClient, io: CliIO, wanted: string): Promise<number> {
  const model = findModel(await client.listModels(), wanted)
  io.stdout(`stopping ${model.name}…\n`)
  const view = await client.stopModel(model.id)
  io.stdout(`${view.name} is ${view.status.state}\n`)
  return 0
}

/** By name first, then alias; the opaque id is accepted too, for scripts that read `--json`. */
function findModel(models: ModelView[], wanted: string): ModelView {
  const found =
    models.find((m) => m.name === wanted) ?? models.find((m) => m.aliases.includes(wanted)) ?? models.find((m) => m.id === wanted)
  if (found) return found
  if (models.length === 0) throw new CliError(`unknown model "${wanted}": the gateway has no models`)
  const names = models.map((m) => (m.aliases.length > 0 ? `${m.name} (${m.aliases.join(', ')})` : m.name))
  throw new CliError(`unknown model "${wanted}"; available: ${names.join(', ')}`)
}

/** The gateway's message (it names the model and says what to do), then the cause and the engine's last words. */
function failure(message: string, diagnosis: StartDiagnosis): string {
  const exit = diagnosis.exitCode === null ? '' : `, exit code ${diagnosis.exitCode}`
  const lines = [message, `cause: ${diagnosis.cause}${exit}`]
  if (diagnosis.logTail.length > 0) lines.push('last log lines:', ...diagnosis.logTail.map((line) => `  ${line}`))
  return `${lines.join('\n')}\n`
}

/** `running/total`: replicas serving now out of those the definition asks for. */
function replicaCount(view: ModelView): string {
  const running = view.status.replicas.filter((r) => r.state === 'running').length
  return `${running}/${view.replicas}`
}

/** The `models list` table, also printed by `status`. */
export function modelsTable(models: ModelView[]): string {
  const header = ['NAME', 'ENGINE', 'RUNTIME', 'STATE', 'REPLICAS', 'CONTEXT', 'DIAGNOSIS']
  const rows = models.map((m) => [
    m.name,
    m.engine,
    m.runtime,
    m.status.state,
    replicaCount(m),
    m.status.contextLength === null ? '-' : String(m.status.contextLength),
    m.status.state === 'failed' ? (m.status.diagnosis?.cause ?? '') : '',
  ])
  return table([header, ...rows])
}
