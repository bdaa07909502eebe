import { createServer } from 'node:net'
import type { DesktopMode } from '../../gateway/contract/ipc.js'
import { AdminClient, findRunningServer, startServer, type AttachableServer, type CortexConfig } from '../../gateway/index.js'

/**
 * Embed or attach (issue 13): when a `cortex serve` of the same data directory runs and answers `/health` where its
 * listen record says, the app is its client and never starts a second gateway; otherwise it starts the core in this
 * process on 127.0.0.1 at the settings' port. A port held by something else is a question to the person, not a crash.
 */

/** Where the window and tray talk to, and how the app came to it. */
export interface Connection {
  mode: DesktopMode
  /** The gateway's root, e.g. http://127.0.0.1:31313 */
  url: string
  admin: AdminClient
  /** Attach: closes the client only (the server and its engines go on). Embed: also closes the core, which stops
   *  its engines unless `engines.stopOnExit` is false. */
  close(): Promise<void>
}

/** A core this process started and listens. */
export interface EmbeddedCore {
  url: string
  close(): Promise<void>
}

export interface PortDialog {
  /** The port is held by a program that is not this data directory's Cortex: another port to try, or null to quit. */
  askForPort(taken: number, suggestion: number): Promise<number | null>
}

export interface ConnectDeps {
  findRunning(): Promise<AttachableServer | null>
  /** Starts the core on the port; rejects with a PortInUseError when something else holds it. */
  startCore(port: number): Promise<EmbeddedCore>
  dialog: PortDialog
  /** A port nothing listens on now, to suggest. */
  freePort(): Promise<number>
}

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError'
  constructor(
    readonly port: number,
    options?: ErrorOptions,
  ) {
    super(`port ${port} on 127.0.0.1 is already in use by another program`, options)
  }
}

/** Thrown when the person declined to pick another port: the app quits without a gateway. */
export class ConnectCancelled extends Error {
  override readonly name = 'ConnectCancelled'
}

/** Attaches to the data directory's running server, else embeds one, asking for another port while the chosen one is taken. */
export async function connect(port: number, deps: ConnectDeps): Promise<Connection> {
  const running = await deps.findRunning()
  if (running !== null) return attach(running)
  let tryPort = port
  for (;;) {
    let core: EmbeddedCore
    try {
      core = await deps.startCore(tryPort)
    } catch (err) {
      if (!(err instanceof PortInUseError)) throw err
      // A `cortex serve` of this data directory may have taken the port while we looked: attach to it then.
      const raced = await deps.findRunning()
      if (raced !== null) return attach(raced)
      const next = await deps.dialog.askForPort(err.port, await deps.freePort())
      if (next === null) throw new ConnectCancelled(`port ${err.port} is in use and no other port was chosen`)
      tryPort = next
      continue
    }
    const own = await deps.findRunning()
    if (own === null) {
      await core.close()
      throw new Error(`the gateway started at ${core.url} but its data directory names no live server to sign in to`)
    }
    const admin = new AdminClient(own.url, own.token)
    return {
      mode: 'embed',
      url: own.url,
      admin,
      close: once(async () => {
        await admin.close()
        await core.close()
      }),
    }
  }
}

function attach(running: AttachableServer): Connection {
  const admin = new AdminClient(running.url, running.token)
  return { mode: 'attach', url: running.url, admin, close: once(() => admin.close()) }
}

/** Quit and a failed start may both close: the second call joins the first (undici refuses a second close). */
function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined
  return () => (closing ??= close())
}

/** The real parts: this data directory's listen record and admin token, and `startServer` with the desktop's overrides. */
export function gatewayDeps(config: CortexConfig, env: NodeJS.ProcessEnv, dialog: PortDialog): ConnectDeps {
  return {
    findRunning: () => findRunningServer(config.dataDir, env),
    startCore: async (port) => {
      const adjusted: CortexConfig = { ...config, server: { ...config.server, host: '127.0.0.1', port } }
      try {
        const server = await startServer({ flags: {}, env, config: adjusted })
        return { url: server.url, close: () => server.close() }
      } catch (err) {
        const cause = (err as Error).cause as NodeJS.ErrnoException | undefined
        if (cause?.code === 'EADDRINUSE') throw new PortInUseError(port, { cause: err })
        throw err
      }
    },
    dialog,
    freePort,
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
