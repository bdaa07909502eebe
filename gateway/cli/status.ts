import type { DockerStatus } from '../contract/admin.js'
import { AdminError } from './admin-client.js'
import { explain, parseClientArgs, withClient, type ClientArgs } from './connection.js'
import type { CliIO } from './io.js'
import { modelsTable } from './models.js'
import { USAGE, usageError } from './usage.js'

/**
 * `cortex status`: the gateway's URL and whether it answers, then Docker and the models from the first
 * event of the admin event stream. Exits 0 when the gateway answers — even when the admin part cannot be
 * read (no token, token refused), which is printed on stderr — and 1 when it does not.
 */
export async function statusCommand(args: string[], io: CliIO): Promise<number> {
  let parsed: ClientArgs
  try {
    parsed = parseClientArgs(args)
  } catch (err) {
    return usageError(io, 'status', (err as Error).message)
  }
  if (parsed.help) {
    io.stdout(USAGE)
    return 0
  }
  if (parsed.positionals.length > 0) return usageError(io, 'status', `unexpected argument "${parsed.positionals[0]}"`)
  return withClient(io, parsed.flags, async (client, connection) => {
    const health = await client.health()
    io.stdout(`Gateway  ${connection.url}  ${health === 200 ? 'answering' : `answering with HTTP ${health} on /health`}\n`)
    let snapshot
    try {
      snapshot = await client.snapshot()
    } catch (err) {
      if (!(err instanceof AdminError) || err.kind === 'unreachable' || err.kind === 'timeout') throw err
      io.stderr(`cannot read Docker's status and the models: ${explain(err, connection)}\n`)
      return 0
    }
    io.stdout(`Docker   ${docker(snapshot.docker)}\n`)
    if (snapshot.models.length === 0) io.stdout('Models   none\n')
    else io.stdout(`Models   ${snapshot.models.length}\n\n${modelsTable(snapshot.models)}`)
    return 0
  })
}

function docker(status: DockerStatus): string {
  if (status.available) return 'available'
  return status.message ? `not available: ${status.message}` : 'not available'
}
