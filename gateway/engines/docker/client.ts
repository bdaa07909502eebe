import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import type Docker from 'dockerode'
import type { Logger } from 'pino'
import { Agent, request } from 'undici'
import type { DockerStatus } from '../../contract/index.js'

const PING_TIMEOUT_MS = 5000

/** errno codes that mean "no daemon there" rather than "the daemon said no". */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOENT',
  'EACCES',
  'EPERM',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
])

/** Whether a dockerode error is the connection failing (the daemon's own errors carry an HTTP status). */
export function isConnectionError(err: unknown): boolean {
  const e = err as { statusCode?: unknown; code?: unknown }
  return typeof e?.statusCode !== 'number' && typeof e?.code === 'string' && CONNECTION_CODES.has(e.code)
}

/** The HTTP status of a daemon error (404 no such container/image, 304 already stopped, 409 conflict). */
export const statusOf = (err: unknown): number | undefined => (err as { statusCode?: number })?.statusCode

/** Docker's own words: dockerode wraps them as "(HTTP code 500) server error - <message> ", or as `json.message`. */
export function dockerMessage(err: unknown): string {
  const e = err as { json?: { message?: unknown }; message?: unknown }
  if (typeof e?.json?.message === 'string') return e.json.message.trim()
  const text = typeof e?.message === 'string' ? e.message : String(err)
  return text.replace(/^\(HTTP code \d+\) [^-]* - /, '').trim()
}

type Target = { address: string; options: Docker.DockerOptions } | { address: string; unsupported: string }

/**
 * `DOCKER_HOST` → dockerode options. Every field is set so that docker-modem's own reading of the environment
 * (DOCKER_HOST, DOCKER_CLIENT_TIMEOUT, TLS variables) cannot override what Cortex was told; a client-wide timeout
 * would also cut the long-lived event and log streams.
 */
export function dockerTarget(dockerHost: string | undefined): Target {
  const unix = (socketPath: string, address: string): Target => ({
    address,
    options: { socketPath, host: undefined, port: undefined, protocol: 'http', timeout: undefined },
  })
  if (!dockerHost) {
    if (process.platform === 'win32') return unix('//./pipe/docker_engine', 'npipe:////./pipe/docker_engine')
    // Docker Desktop's per-user socket, where it exists, else the system daemon's.
    const desktop = join(homedir(), '.docker', 'run', 'docker.sock')
    const socket = existsSync(desktop) ? desktop : '/var/run/docker.sock'
    return unix(socket, `unix://${socket}`)
  }
  if (dockerHost.startsWith('unix://')) return unix(dockerHost.slice('unix://'.length), dockerHost)
  if (dockerHost.startsWith('npipe://')) return unix(dockerHost.slice('npipe://'.length), dockerHost)
  const unsupported = {
    address: dockerHost,
    unsupported: `DOCKER_HOST=${dockerHost} is not supported: use unix:///path/to/docker.sock or tcp://host:port`,
  }
  if (!dockerHost.startsWith('tcp://') || !URL.canParse(dockerHost)) return unsupported
  const url = new URL(dockerHost)
  return {
    address: dockerHost,
    options: { host: url.hostname, port: url.port || 2375, protocol: 'http', socketPath: undefined, timeout: undefined },
  }
}

function downMessage(address: string, err: unknown): string {
  const code = (err as { code?: string })?.code
  if (code === 'EACCES' || code === 'EPERM') {
    return (
      `Cortex may not use Docker at ${address} (permission denied): add your user to the docker group ` +
      '(`sudo usermod -aG docker $USER`, then log in again), or point DOCKER_HOST at a daemon you may use'
    )
  }
  if (err !== undefined && !isConnectionError(err)) {
    // Something answers there, but not as the Docker API over plain HTTP (a TLS daemon, another service).
    return `${address} did not answer as a Docker daemon (${dockerMessage(err)}): check DOCKER_HOST`
  }
  return (
    `Docker is not running at ${address}: start it with \`sudo systemctl start docker\` (or Docker Desktop), ` +
    'or point DOCKER_HOST at it'
  )
}

/**
 * The daemon connection and whether it answers. Unavailable is a state, not an error: while it lasts the daemon is
 * pinged every `reconnectMs`; while available, callers report connection failures through `failed()` (the event
 * stream ending is the usual one) and a ping decides.
 */
export class DockerClient {
  readonly address: string
  private readonly options: Docker.DockerOptions
  private client: Docker | undefined
  private readonly pinger: Agent | undefined
  private readonly pingUrl: string
  private readonly unsupported: string | null
  private current: DockerStatus
  private readonly listeners = new Set<(s: DockerStatus) => void>()
  private checking: Promise<boolean> | null = null
  private timer: NodeJS.Timeout | undefined
  private closed = false

  constructor(
    dockerHost: string | undefined,
    private readonly reconnectMs: number,
    private readonly logger: Logger,
    /** Runs each time the daemon (re)appears, before status listeners hear of it. */
    private readonly onAvailable: () => Promise<void>,
  ) {
    const target = dockerTarget(dockerHost)
    this.address = target.address
    this.options = 'options' in target ? target.options : {}
    this.unsupported = 'unsupported' in target ? target.unsupported : null
    // Pings go over undici, which the gateway has loaded anyway, with a timeout of their own (a tcp:// daemon that
    // drops packets must not leave the status undecided).
    const { socketPath, host, port } = this.options
    this.pingUrl = socketPath ? 'http://localhost/_ping' : `http://${String(host)}:${String(port)}/_ping`
    this.pinger = this.unsupported
      ? undefined
      : new Agent({ connect: { ...(socketPath && { socketPath }), timeout: PING_TIMEOUT_MS }, headersTimeout: PING_TIMEOUT_MS })
    this.current = { available: false, message: this.unsupported ?? `connecting to Docker at ${this.address}` }
  }

  /**
   * The Docker API client, loaded at its first use: dockerode and what it pulls in (ssh2, gRPC, protobuf) cost ~27 MB
   * of RSS, which a Cortex that runs no container never needs — the status pings above do without it.
   */
  get docker(): Docker {
    if (this.client === undefined) {
      const DockerApi = createRequire(import.meta.url)('dockerode') as typeof Docker
      this.client = new DockerApi(this.options)
    }
    return this.client
  }

  status(): DockerStatus {
    return this.current
  }

  subscribe(fn: (s: DockerStatus) => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /** Available now? Asks the daemon when the last answer was no, rather than waiting for the next ping. */
  async ensure(): Promise<boolean> {
    return this.current.available || this.check()
  }

  /** Pings the daemon; concurrent callers share one ping. */
  check(): Promise<boolean> {
    this.checking ??= this.ping().finally(() => (this.checking = null))
    return this.checking
  }

  /** A call failed: when it was the connection, ping at once, so the status turns unavailable only if it is. */
  failed(err: unknown): void {
    if (isConnectionError(err) && this.current.available) void this.check()
  }

  /** What to tell a caller whose call failed for want of a daemon. */
  unavailableMessage(err?: unknown): string {
    return this.current.available || !this.current.message ? downMessage(this.address, err) : this.current.message
  }

  close(): void {
    // The runtime and its owner may both close it; the ping agent refuses a second close.
    if (this.closed) return
    this.closed = true
    clearTimeout(this.timer)
    this.listeners.clear()
    void this.pinger?.close()
  }

  private async ping(): Promise<boolean> {
    if (this.unsupported || this.closed) return false
    clearTimeout(this.timer)
    let error: unknown = null
    try {
      await this.pingOnce()
    } catch (err) {
      error = err
    }
    if (this.closed) return false
    if (error === null) {
      if (!this.current.available) {
        try {
          await this.onAvailable()
        } catch (err) {
          // The daemon went away again while Cortex caught up with it: stay unavailable and ping again.
          if (isConnectionError(err)) return this.down(err)
          this.logger.warn({ err, docker: this.address }, 'could not catch up with Docker after it reappeared')
        }
        this.set({ available: true, message: null })
        this.logger.info({ docker: this.address }, 'Docker is available')
      }
      return true
    }
    return this.down(error)
  }

  /** `GET /_ping`, which every Docker daemon answers `OK`; anything else is not one. */
  private async pingOnce(): Promise<void> {
    const res = await request(this.pingUrl, { dispatcher: this.pinger, bodyTimeout: PING_TIMEOUT_MS })
    const text = await res.body.text()
    if (res.statusCode !== 200 || text !== 'OK') {
      throw Object.assign(new Error(`GET /_ping answered ${res.statusCode} ${text.slice(0, 100)}`.trim()), {
        statusCode: res.statusCode,
      })
    }
  }

  private down(err: unknown): false {
    const message = downMessage(this.address, err)
    if (this.current.available) this.logger.warn({ docker: this.address, err }, 'Docker stopped answering')
    this.set({ available: false, message })
    this.timer = setTimeout(() => void this.check(), this.reconnectMs)
    this.timer.unref()
    return false
  }

  private set(next: DockerStatus): void {
    if (next.available === this.current.available && next.message === this.current.message) return
    this.current = next
    for (const fn of this.listeners) fn(next)
  }
}
