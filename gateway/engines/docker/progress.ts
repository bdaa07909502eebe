import type { PullProgress } from './types.js'

/** What Docker's pull, load and events endpoints send: JSON objects, one per line; errors arrive in-band. */
export interface DockerMessage {
  status?: string
  id?: string
  progressDetail?: { current?: number; total?: number }
  stream?: string
  error?: string
  errorDetail?: { message?: string }
}

/**
 * Splits a JSON-lines stream into objects, whatever the chunk boundaries. A line that is not JSON becomes an
 * `error` message instead of a throw: a proxy's HTML error page must fail the operation, not the process.
 */
export class JsonLines {
  private rest = ''

  push(chunk: string): DockerMessage[] {
    const lines = (this.rest + chunk).split('\n')
    this.rest = lines.pop()!
    return lines.flatMap(parseLine)
  }

  end(): DockerMessage[] {
    const last = parseLine(this.rest)
    this.rest = ''
    return last
  }
}

function parseLine(line: string): DockerMessage[] {
  const text = line.trim()
  if (!text) return []
  try {
    const value: unknown = JSON.parse(text)
    return value && typeof value === 'object' ? [value as DockerMessage] : [{ error: `unexpected answer from Docker: ${text}` }]
  } catch {
    return [{ error: `unexpected answer from Docker: ${text.slice(0, 200)}` }]
  }
}

export type PullStep = { kind: 'progress'; progress: PullProgress } | { kind: 'error'; message: string }

/**
 * One message of `POST /images/create` (a pull). Layer messages carry the layer id ("Pulling fs layer",
 * "Downloading" with byte counts, "Download complete", "Extracting", "Pull complete"); the rest ("Pulling from …",
 * "Digest: …", "Status: …") are about the whole image, and the first line's id is the tag, not a layer.
 */
export function readPullMessage(image: string, msg: DockerMessage): PullStep | null {
  if (msg.error || msg.errorDetail) return { kind: 'error', message: msg.errorDetail?.message ?? msg.error ?? 'pull failed' }
  if (!msg.status) return null
  const isLayer = msg.id !== undefined && !msg.status.startsWith('Pulling from')
  const detail = msg.progressDetail ?? {}
  return {
    kind: 'progress',
    progress: {
      image,
      layer: isLayer ? msg.id! : null,
      status: msg.status,
      current: typeof detail.current === 'number' ? detail.current : null,
      total: typeof detail.total === 'number' && detail.total > 0 ? detail.total : null,
    },
  }
}

/** The outcome of `POST /images/load`: the names it loaded ("Loaded image: repo:tag", or an id when untagged). */
export function readLoadMessages(messages: readonly DockerMessage[]): { images: string[] } | { error: string } {
  const images: string[] = []
  for (const msg of messages) {
    if (msg.error || msg.errorDetail) return { error: msg.errorDetail?.message ?? msg.error! }
    const loaded = msg.stream?.match(/^Loaded image(?: ID)?: (\S+)/)
    if (loaded) images.push(loaded[1]!)
  }
  return { images }
}
