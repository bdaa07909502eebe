import { createHash } from 'node:crypto'
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { prepareDocker, prepareVllmStandin, type DockerForTests } from './docker.js'
import { encodeGguf, tinyLlamaSpec, writeGguf } from './gguf-writer.js'
import { startTestRedis, type RedisForTests } from './redis.js'
import { cortexCacheDir, findLlamaServer, llamaSourceDir } from './substrate.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Absolute path of a llama-server binary. */
    llamaServer: string
    /** The tiny llama chat model (test/support/gguf-writer.ts, default options). */
    tinyModel: string
    /** The llama.cpp source tree; real vocab-only GGUFs are in `<llamaSrc>/models/ggml-vocab-*.gguf`. */
    llamaSrc: string
    /** The Docker daemon and an image running `llamaServer` as `/app/llama-server`, or why there is none. */
    docker: DockerForTests
    /** The same daemon and an image that plays vllm/vllm-openai (test/support/vllm-standin.mjs), or why there is none. */
    vllmStandin: DockerForTests
    /** A redis-server on a port of the tests' own (stopped at teardown), or why there is none. */
    redis: RedisForTests
  }
}

/** Builds or finds llama-server, writes the tiny model, finds Docker and starts Redis; a missing part fails the run
 *  with what to do, except Docker and Redis, whose suites decide (they cannot skip under CI=true). Returns the
 *  teardown, which stops Redis. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const llamaServer = await findLlamaServer()
  project.provide('llamaServer', llamaServer)
  project.provide('llamaSrc', llamaSourceDir(llamaServer))
  project.provide('tinyModel', await tinyModel())
  const docker = await prepareDocker(llamaServer)
  project.provide('docker', docker)
  project.provide('vllmStandin', await prepareVllmStandin(docker))
  const redis = await startTestRedis()
  project.provide('redis', redis.found)
  return () => redis.stop()
}

// Named by a hash of its bytes: a change to the writer gives a new file, and tests never see a stale one.
export async function tinyModel(): Promise<string> {
  const bytes = encodeGguf(tinyLlamaSpec().spec)
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 12)
  const dir = path.join(cortexCacheDir(), 'test-models')
  const file = path.join(dir, `tiny-llama-${hash}.gguf`)
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true })
    await writeGguf(file, bytes)
  }
  return file
}
