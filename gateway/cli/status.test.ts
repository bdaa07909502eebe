import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { cliHarness, runningView } from './admin-api.test-support.js'
import { modelView } from '../contract/admin.test-support.js'

const TOKEN = 'admin-secret'
const tiny = runningView(modelView({ id: 'm1', name: 'tiny' }), 4096)

const h = cliHarness(TOKEN, [tiny])

const status = (env: NodeJS.ProcessEnv = {}) => h.cortex(['status'], env)

describe('cortex status', () => {
  it('prints the gateway, Docker and each model from the event stream snapshot', async () => {
    const server = await h.startApi()
    expect(await status()).toEqual({
      code: 0,
      stderr: '',
      stdout:
        `Gateway  ${server.url}  answering\n` +
        'Docker   available\n' +
        'Models   1\n\n' +
        'NAME  ENGINE    RUNTIME  STATE    REPLICAS  CONTEXT  DIAGNOSIS\n' +
        'tiny  llamacpp  process  running  1/1       4096\n',
    })
    expect(server.requests).toEqual([
      { method: 'GET', url: '/health', authorization: undefined },
      { method: 'GET', url: '/admin/api/events', authorization: `Bearer ${TOKEN}` },
    ])
  })

  it('says why Docker is not available, and when there are no models', async () => {
    await h.startApi({ models: [], docker: { available: false, message: 'cannot reach /var/run/docker.sock: start Docker' } })
    const result = await status()
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Docker   not available: cannot reach /var/run/docker.sock: start Docker\nModels   none\n')
  })

  it('exits 1 with what to do when the gateway does not answer', async () => {
    const server = await h.startApi()
    const port = server.port
    await server.close()
    h.api = undefined
    expect(await status({ CORTEX_PORT: String(port) })).toEqual({
      code: 1,
      stdout: '',
      stderr: `Cortex is not running at http://127.0.0.1:${port}: start it with \`cortex serve\` (or pass --url)\n`,
    })
  })

  it('still exits 0 when the gateway answers but there is no admin token, and says how to get one', async () => {
    fs.rmSync(path.join(h.dataDir, 'admin-token'))
    const server = await h.startApi()
    const result = await status()
    expect(result).toEqual({
      code: 0,
      stdout: `Gateway  ${server.url}  answering\n`,
      stderr:
        "cannot read Docker's status and the models: no admin token: set CORTEX_ADMIN_TOKEN or run on the machine " +
        `where \`cortex serve\` wrote ${path.join(h.dataDir, 'admin-token')}\n`,
    })
  })

  it('still exits 0 when the gateway refuses the token, and says so', async () => {
    await h.startApi()
    const result = await status({ CORTEX_ADMIN_TOKEN: 'wrong' })
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(
      /^cannot read Docker's status and the models: the admin token was refused: the token from CORTEX_ADMIN_TOKEN /,
    )
  })
})
