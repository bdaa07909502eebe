import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import Docker from 'dockerode'
import { dockerTarget } from '../../gateway/engines/docker/client.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const buildScript = path.join(repoRoot, 'scripts/build-test-image.sh')

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
  // Named by the binary and the script that packs it: a new build gives a new image, never a stale one.
  const hash = createHash('sha256')
  hash.update(readFileSync(buildScript))
  for await (const chunk of createReadStream(llamaServer)) hash.update(chunk as Buffer)
  const image = `cortex-test/llama-server:${hash.digest('hex').slice(0, 12)}`
  try {
    await docker.getImage(image).inspect()
    return { host, image }
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err
  }
  const { code, stderr } = await run('bash', [buildScript, llamaServer, image])
  if (code !== 0) {
    return { host, unavailable: `scripts/build-test-image.sh failed (exit ${code}):\n${stderr.trim()}`, broken: true }
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
