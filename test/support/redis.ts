import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Redis } from 'ioredis'
import { freePort } from './substrate.js'

/** A redis-server of the tests' own, or why there is none. */
export type RedisForTests = { url: string; skip: null } | { url: null; skip: string }

export interface TestRedis {
  found: RedisForTests
  stop(): Promise<void>
}

/**
 * Starts Debian's redis-server on a free port of 127.0.0.1, with no persistence and a data folder of its own. Without
 * the binary the Redis suites skip and say why, except under CI=true, where that fails the run.
 */
export async function startTestRedis(): Promise<TestRedis> {
  const port = await freePort()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-test-redis-'))
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]
  const child: ChildProcess = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()))
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
  const missing = await new Promise<boolean>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ENOENT'))
    child.once('spawn', () => resolve(false))
  })
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && !missing) {
      child.kill('SIGTERM')
      await exited
    }
    rmSync(dir, { recursive: true, force: true })
  }
  if (missing) {
    await stop()
    const skip = 'redis-server is not installed (apt-get install redis-server; .ci/run does)'
    if (process.env.CI === 'true') throw new Error(`${skip}: the Redis suites cannot skip under CI=true`)
    return { found: { url: null, skip }, stop }
  }
  const url = `redis://127.0.0.1:${port}`
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  // Refusals while redis-server starts are expected: the loop below retries them.
  client.on('error', () => {})
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      await client.connect()
      await client.ping()
      client.disconnect()
      return { found: { url, skip: null }, stop }
    } catch (err) {
      client.disconnect()
      if (Date.now() > deadline || child.exitCode !== null) {
        await stop()
        throw new Error(`redis-server did not answer on ${url}: ${(err as Error).message}\n${output.slice(-2000)}`, {
          cause: err,
        })
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}
