import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { rejection } from '../../../test/support/rejection.js'
import type { CortexError, DockerStatus } from '../../contract/index.js'
import { modelDefinition } from '../../contract/model.test-support.js'
import type { StartFailure } from '../driver.js'
import { dockerMessage, dockerTarget, isConnectionError } from './client.js'
import { FakeDaemon } from './fake-daemon.test-support.js'
import { createDockerRuntime } from './runtime.js'
import type { DockerRuntime } from './types.js'

const logger = pino({ level: 'silent' })
const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-docker-client-'))
const cleanups: Array<() => Promise<void> | void> = []

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

function runtime(dockerHost: string): DockerRuntime {
  const rt = createDockerRuntime({ instance: 'i1', logger, dockerHost, hasGpus: false, reconnectMs: 20, hfCache: dir })
  cleanups.push(() => rt.close())
  return rt
}

/** Every status the runtime reports from now on. */
function statuses(rt: DockerRuntime) {
  const seen: DockerStatus[] = []
  rt.onStatus((s) => seen.push(s))
  return seen
}

describe('dockerTarget', () => {
  it.each([
    ['unix:///run/user/1000/docker.sock', { socketPath: '/run/user/1000/docker.sock' }],
    ['npipe:////./pipe/docker_engine', { socketPath: '//./pipe/docker_engine' }],
    ['tcp://10.0.0.5:2375', { host: '10.0.0.5', port: '2375', socketPath: undefined }],
    ['tcp://docker-box', { host: 'docker-box', port: 2375 }],
  ])('%s', (host, expected) => {
    const target = dockerTarget(host)
    expect(target.address).toBe(host)
    expect('options' in target && target.options).toMatchObject({ protocol: 'http', timeout: undefined, ...expected })
  })

  it('overrides what docker-modem would read from the environment', () => {
    expect(dockerTarget('unix:///x.sock')).toMatchObject({ options: { host: undefined, port: undefined } })
  })

  it('defaults to a local socket', () => {
    expect(dockerTarget(undefined).address).toMatch(/^(unix:\/\/\/|npipe:)/)
  })

  it.each(['ssh://me@box', 'tcp://bad host:1'])('names what it does not support: %s', (host) => {
    expect(dockerTarget(host)).toEqual({
      address: host,
      unsupported: `DOCKER_HOST=${host} is not supported: use unix:///path/to/docker.sock or tcp://host:port`,
    })
  })
})

describe('isConnectionError', () => {
  it.each([
    [{ code: 'ECONNREFUSED' }, true],
    [{ code: 'ENOENT' }, true],
    [{ code: 'EACCES' }, true],
    [{ statusCode: 404, json: { message: 'No such container' } }, false],
    [{ code: 'ERR_SOMETHING' }, false],
    [new Error('boom'), false],
  ])('%j → %s', (err, expected) => {
    expect(isConnectionError(err)).toBe(expected)
  })
})

describe('dockerMessage', () => {
  it.each([
    [{ statusCode: 404, json: { message: 'No such image: x:1' } }, 'No such image: x:1'],
    [
      // A streamed answer (pull) keeps Docker's words only in the message dockerode builds.
      new Error('(HTTP code 500) server error - Get "https://ghcr.io/v2/": dial tcp: lookup ghcr.io: no such host '),
      'Get "https://ghcr.io/v2/": dial tcp: lookup ghcr.io: no such host',
    ],
    [new Error('socket hang up'), 'socket hang up'],
  ])('%s', (err, expected) => {
    expect(dockerMessage(err)).toBe(expected)
  })
})

describe('a daemon that does not answer is a state', () => {
  const socket = path.join(dir, 'absent.sock')
  const address = `unix://${socket}`
  const message =
    `Docker is not running at ${address}: start it with \`sudo systemctl start docker\` (or Docker Desktop), ` +
    'or point DOCKER_HOST at it'

  it('says so, naming the address tried, and every call says it too', async () => {
    const rt = runtime(address)
    const seen = statuses(rt)
    await expect.poll(() => rt.status()).toEqual({ available: false, message })
    expect(seen.at(-1)).toEqual({ available: false, message })

    const failure = await rejection<StartFailure>(
      rt.driver(modelDefinition({ runtime: 'docker', gpus: 'none' })).start({ replica: 0, log: () => {} }),
    )
    expect(failure.diagnosis).toMatchObject({ cause: 'docker_unavailable', message })
    const tar = path.join(dir, 'image.tar')
    writeFileSync(tar, 'a tar\n')
    for (const call of [rt.list(), rt.pull('x:1'), rt.load(tar)]) {
      expect(await rejection<CortexError>(call)).toMatchObject({ code: 'docker_unavailable', message })
    }
    expect(await rt.reconcile([])).toEqual([])
  })

  it.each([
    [404, 'nope', 'GET /_ping answered 404 nope'],
    [200, '<html>', 'GET /_ping answered 200 <html>'],
  ])('a server that answers /_ping with %i %j is not a daemon, and says what it answered', async (status, text, why) => {
    const server = http.createServer((_req, res) => res.writeHead(status).end(text))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const address = `tcp://127.0.0.1:${(server.address() as { port: number }).port}`
    const rt = runtime(address)
    await expect
      .poll(() => rt.status())
      .toEqual({ available: false, message: `${address} did not answer as a Docker daemon (${why}): check DOCKER_HOST` })
  })

  it('flips to available when the daemon appears, and back when it goes away', async () => {
    const fake = new FakeDaemon(path.join(dir, 'flip.sock'))
    cleanups.push(() => fake.stop())
    const rt = runtime(fake.address)
    const seen = statuses(rt)
    await expect
      .poll(() => rt.status().available === false && rt.status().message?.startsWith('Docker is not running'))
      .toBe(true)

    await fake.start()
    await expect.poll(() => rt.status()).toEqual({ available: true, message: null })
    // The runtime subscribed to this instance's container deaths as soon as the daemon was there.
    expect(fake.subscriptions).toHaveLength(1)

    await fake.stop()
    await expect.poll(() => rt.status().available).toBe(false)
    expect(seen.map((s) => s.available)).toEqual([false, true, false])
  })
})
