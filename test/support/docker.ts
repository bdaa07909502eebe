import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import Docker from 'dockerode'
import { dockerTarget } from '../../gateway/engines/docker/client.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const buildScript = path.join(repoRoot, 'scripts/build-test-image.sh')
const standinBuildScript = path.join(repoRoot, 'scripts/build-vllm-standin-image.sh')
const standinScript = path.join(repoRoot, 'test/support/vllm-standin.mjs')

/** What global setup found: a daemon and the test image, or why there is none (`broken`: there is a daemon, but
 *  the image could not be made, which is a failure everywhere, not a reason to skip). */
export type DockerForTests = { host: string; image: string } | { host: string; unavailable: string; broken: boolean }

/** The daemon tests talk to: DOCKER_HOST, else the platform's default socket (as Cortex itself picks it). */
export function testDocker(timeout?: number): { docker: Docker; host: string } {
  const target = dockerTarget(process.env.DOCKER_HOST)
  if (!('options' in target)) throw new Error(target.unsupported)
  return { docker: new Docker({ ...target.options, timeout }), host: target.address }
}

/** Global setup: checks the daemon and builds (once per llama-server binary) the image that runs it. */
export async function prepareDocker(llamaServer: string): Promise<DockerForTests> {
  const { docker, host } = testDocker()
  try {
    await testDocker(5000).docker.ping()
  } catch (err) {
    const why = (err as { code?: string }).code ?? (err as Error).message
    return { host, unavailable: `no Docker daemon answers at ${host} (${why}): start one, or set DOCKER_HOST`, broken: false }
  }
  return buildImage(docker, host, { repo: 'cortex-test/llama-server', script: buildScript, args: [llamaServer] })
}

/** Global setup, after prepareDocker: builds (once per Node binary and script) the image that plays vLLM's. */
export async function prepareVllmStandin(found: DockerForTests): Promise<DockerForTests> {
  if ('unavailable' in found && !found.broken) return found
  const { docker, host } = testDocker()
  const image = { repo: 'cortex-test/vllm-standin', script: standinBuildScript, args: [process.execPath] }
  return buildImage(docker, host, { ...image, alsoHashed: [standinScript] })
}

interface ImageBuild {
  repo: string
  /** Run as `bash script ...args tag`. */
  script: string
  /** Files, like the binary the image packs. */
  args: string[]
  /** Other files the image is made of. */
  alsoHashed?: string[]
}

/**
 * `repo:<hash>`, built by the script unless the daemon already has it. Named by the bytes of the script and of every
 * file that goes into the image: a changed input gives a new image, never a stale one.
 */
async function buildImage(
  docker: Docker,
  host: string,
  { repo, script, args, alsoHashed = [] }: ImageBuild,
): Promise<DockerForTests> {
  const hash = createHash('sha256')
  for (const file of [script, ...alsoHashed, ...args])
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  const image = `${repo}:${hash.digest('hex').slice(0, 12)}`
  try {
    await docker.getImage(image).inspect()
    return { host, image }
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err
  }
  const { code, stderr } = await run('bash', [script, ...args, image])
  if (code !== 0) {
    const name = path.relative(repoRoot, script)
    return { host, unavailable: `${name} failed (exit ${code}):\n${stderr.trim()}`, broken: true }
  }
  return { host, image }
}

/**
 * For a Docker suite, given `inject('docker')`: the test image, or why the suite skips. Under CI=true a missing daemon fails the file
 * (ARCHITECTURE.md: only the GPU and Electron suites may skip there), as does a daemon that could not build the image.
 */
export function dockerSuite(found: DockerForTests): { image: string; skip: null } | { image: null; skip: string } {
  if ('image' in found) return { image: found.image, skip: null }
  if (found.broken || process.env.CI === 'true') throw new Error(`the Docker suite cannot run: ${found.unavailable}`)
  return { image: null, skip: found.unavailable }
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stderr }))
  })
}
