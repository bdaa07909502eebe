import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { memoryLogger } from '../http/fakes.test-support.js'
import { LLAMA_SERVER_HOW_TO_GET, cortexInfoReader, cortexVersion } from './cortex.js'
import { createSystemMonitor } from './monitor.js'

const dir = mkdtempSync(path.join(tmpdir(), 'cortex-facts-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const docker = () => ({ available: false, message: 'Docker does not answer on /var/run/docker.sock' })

/** An executable that prints what llama-server's --version prints (a build of llama.cpp 3.22.1's source, on stderr). */
function fakeLlamaServer(name: string, said: string, code = 0): string {
  const file = path.join(dir, name)
  writeFileSync(file, `#!/bin/sh\necho '${said}' >&2\nexit ${code}\n`)
  chmodSync(file, 0o755)
  return file
}

describe('cortexInfoReader', () => {
  it('tells the version from package.json, the data directory, the llama-server it found and its version, Docker', async () => {
    const bin = fakeLlamaServer(
      'llama-server',
      '0.00.000.596 I srv  llama_server: initializing ...\nversion: 0.5.0-dev (build 1, commit de3ff81)\nbuilt with GNU 12.2.0 for Linux x86_64',
    )
    const info = await cortexInfoReader({ dataDir: '/data/cortex', llamaServer: bin, docker })()
    const pkg = JSON.parse(readFileSync(path.resolve('package.json'), 'utf8')) as { version: string }
    expect(info).toEqual({
      version: pkg.version,
      dataDir: '/data/cortex',
      llamaServer: { found: true, path: bin, version: '0.5.0-dev (build 1, commit de3ff81)', howToGet: LLAMA_SERVER_HOW_TO_GET },
      docker: docker(),
    })
    expect(cortexVersion()).toBe(pkg.version)
  })

  it('without llama-server: not found, and how to get it', async () => {
    const info = await cortexInfoReader({ dataDir: '/d', llamaServer: path.join(dir, 'missing'), docker })()
    expect(info.llamaServer).toEqual({ found: false, path: null, version: null, howToGet: LLAMA_SERVER_HOW_TO_GET })
    expect(info.llamaServer.howToGet).toMatch(/engines\.llamaServer .* CORTEX_LLAMA_SERVER/)
  })

  it('a llama-server that prints no version line is found with version null', async () => {
    const bin = fakeLlamaServer('odd-server', 'error: unknown argument: --version', 1)
    const info = await cortexInfoReader({ dataDir: '/d', llamaServer: bin, docker })()
    expect(info.llamaServer).toMatchObject({ found: true, path: bin, version: null })
  })

  it('is what the monitor tells; null where the core passed no facts', async () => {
    const { logger } = memoryLogger()
    const attribute = async () => new Map()
    const bare = createSystemMonitor({ logger, attribute, nvidiaSmi: null })
    const told = createSystemMonitor({ logger, attribute, nvidiaSmi: null, cortex: { dataDir: '/d', llamaServer: null, docker } })
    try {
      expect(await bare.cortex()).toBe(null)
      expect(await told.cortex()).toMatchObject({ dataDir: '/d', docker: docker() })
    } finally {
      await Promise.all([bare.close(), told.close()])
    }
  })
})
