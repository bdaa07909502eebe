import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { limiterCases } from '../../gateway/auth/limiter-cases.test-support.js'
import { createRedisLimiter } from '../../gateway/auth/redis-limits.js'
import { runCortex, startCortex, type CortexProcess } from '../support/cortex-process.js'
import { startLlamaServer, type LlamaServer } from '../support/substrate.js'

// Limits in a real redis-server (test/support/redis.ts): the memory limiter's cases, then two gateway processes
// that share one key's limits.
const redis = inject('redis')
const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-redis-'))
const started: Array<CortexProcess | LlamaServer> = []

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()))
  rmSync(dir, { recursive: true, force: true })
})

describe.skipIf(redis.url === null)(`Redis limits${redis.skip ? ` (skipped: ${redis.skip})` : ''}`, () => {
  limiterCases((now, usedToday) => createRedisLimiter({ url: redis.url!, usedToday, logger: pino({ level: 'silent' }), now }))

  it('shares a key’s limits between two gateway processes that know the same key', async () => {
    const engine = await startLlamaServer(inject('llamaServer'), inject('tinyModel'), ['-c', '2048', '-np', '4'])
    started.push(engine)
    const config = path.join(dir, 'cortex.yaml')
    writeFileSync(
      config,
      `limits: { redis: "${redis.url}" }\nmodels:\n  - { name: tiny, engine: llamacpp, runtime: remote, baseUrl: "${engine.url}/v1" }\n`,
    )
    // One key, registered on both gateways with --key, as an operator does to spread a client over them.
    const key = `sk-cortex-shared-${Date.now()}-0123456789abcdef`
    const gateways: CortexProcess[] = []
    for (const name of ['a', 'b']) {
      const dataDir = path.join(dir, name)
      const made = await runCortex(['keys', 'create', '--name', 'shared', '--key', key, '--rpm', '4', '--data-dir', dataDir])
      expect(made.code, made.stderr).toBe(0)
      const gateway = await startCortex(['serve', '--config', config, '--data-dir', dataDir, '--port', '0'])
      started.push(gateway)
      gateways.push(gateway)
    }
    const chat = (gateway: CortexProcess) =>
      fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
      })
    const first = await Promise.all([chat(gateways[0]!), chat(gateways[0]!), chat(gateways[0]!)])
    expect(first.map((r) => r.status)).toEqual([200, 200, 200])
    const second = await Promise.all([chat(gateways[1]!), chat(gateways[1]!), chat(gateways[1]!)])
    expect(second.map((r) => r.status).sort()).toEqual([200, 429, 429])
    const refused = second.find((r) => r.status === 429)!
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0')
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('rpm')
  })
})

describe('Redis limits misconfigured', () => {
  it('refuses to start on a Redis that does not answer, naming the URL without its password', async () => {
    const url = 'redis://:hunter2@127.0.0.1:1/0'
    const err = await createRedisLimiter({ url, usedToday: new Map(), logger: pino({ level: 'silent' }) }).catch((e: Error) => e)
    expect(err).toBeInstanceOf(Error)
    expect((err as Error).message).toMatch(/^limits\.redis: cannot connect to redis:\/\/:\*\*\*@127\.0\.0\.1:1\/0/)
    expect((err as Error).message).not.toContain('hunter2')
  })
})
