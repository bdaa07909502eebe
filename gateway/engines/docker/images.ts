import { constants, createReadStream } from 'node:fs'
import { access, stat } from 'node:fs/promises'
import { isAbsolute } from 'node:path'
import type { Readable } from 'node:stream'
import { CortexError, quoted, type ImageView } from '../../contract/index.js'
import { dockerMessage, isConnectionError, statusOf, type DockerClient } from './client.js'
import { offlineImageHint } from './diagnose.js'
import { JsonLines, readLoadMessages, readPullMessage, type DockerMessage } from './progress.js'
import type { PullProgress } from './types.js'

/** Reads a JSON-lines answer to its end. */
function readMessages(stream: Readable, onMessage: (msg: DockerMessage) => void): Promise<void> {
  const lines = new JsonLines()
  stream.setEncoding('utf8')
  return new Promise((resolve, reject) => {
    stream.on('data', (chunk: string) => lines.push(chunk).forEach(onMessage))
    stream.on('error', reject)
    stream.once('end', () => {
      lines.end().forEach(onMessage)
      resolve()
    })
  })
}

const invalidPath = (message: string) => new CortexError('invalid_request', message, { param: 'path' })

/** The daemon's images: what the admin API lists, loads and pulls, and what a start makes sure of. */
export class ImageStore {
  constructor(
    private readonly client: DockerClient,
    private readonly emit: (p: PullProgress) => void,
  ) {}

  async list(): Promise<ImageView[]> {
    const images = await this.call(() => this.client.docker.listImages())
    return images.map((i) => ({
      id: i.Id,
      tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
      sizeBytes: i.Size,
      createdAt: i.Created * 1000,
    }))
  }

  async has(image: string): Promise<boolean> {
    try {
      await this.call(() => this.client.docker.getImage(image).inspect())
      return true
    } catch (err) {
      if (statusOf(err) === 404) return false
      throw err
    }
  }

  /** `docker load` of a tar on this machine (the offline way to get an image). */
  async load(path: string): Promise<string[]> {
    if (!isAbsolute(path)) throw invalidPath(`path must be absolute: ${quoted(path)}`)
    try {
      if (!(await stat(path)).isFile()) throw invalidPath(`${quoted(path)} is not a file: give the path of a \`docker save\` tar`)
      await access(path, constants.R_OK)
    } catch (err) {
      if (err instanceof CortexError) throw err
      const code = (err as NodeJS.ErrnoException).code
      throw invalidPath(
        code === 'ENOENT' ? `${quoted(path)} does not exist` : `${quoted(path)} cannot be read by Cortex (${code})`,
      )
    }
    const messages: DockerMessage[] = []
    try {
      await this.call(async () => {
        const stream = await this.client.docker.loadImage(createReadStream(path))
        await readMessages(stream as Readable, (m) => messages.push(m))
      })
    } catch (err) {
      if (err instanceof CortexError) throw err
      throw invalidPath(`Docker could not load ${path}: ${dockerMessage(err)}`)
    }
    const result = readLoadMessages(messages)
    if ('error' in result) throw invalidPath(`Docker could not load ${path}: ${result.error}`)
    if (result.images.length === 0) throw invalidPath(`Docker found no image in ${path}: is it a \`docker save\` tar?`)
    return result.images
  }

  /** Pulls with per-layer progress to `emit`, ending with Docker's "Status: …" line or a `failed: <why>` one. A
   *  registry that refuses or cannot be reached is `invalid_request` naming the image and the offline way. */
  async pull(image: string): Promise<void> {
    let failure: string | null = null
    try {
      await this.call(async () => {
        const stream = await this.client.docker.pull(image)
        await readMessages(stream as Readable, (msg) => {
          const step = readPullMessage(image, msg)
          if (step?.kind === 'progress') this.emit(step.progress)
          else if (step?.kind === 'error') failure ??= step.message
        })
      })
    } catch (err) {
      if (err instanceof CortexError) throw err
      failure = dockerMessage(err)
    }
    if (failure !== null) {
      // Pulls asked for on the admin API run after the request was answered: their watchers learn the end here.
      this.emit({ image, layer: null, status: `failed: ${failure}`, current: null, total: null })
      throw new CortexError('invalid_request', `could not pull ${image} (${failure}): ${offlineImageHint(image)}`, {
        param: 'image',
        reason: failure,
      })
    }
  }

  /** Runs one daemon call; a connection failure becomes `docker_unavailable` and a re-ping. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    if (!(await this.client.ensure())) throw new CortexError('docker_unavailable', this.client.unavailableMessage())
    try {
      return await fn()
    } catch (err) {
      if (!isConnectionError(err)) throw err
      this.client.failed(err)
      throw new CortexError('docker_unavailable', this.client.unavailableMessage(err))
    }
  }
}
