/** The commands against the gateway's real admin routes (buildApp over in-memory services): the wire format both sides agree on. */
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { CortexError } from '../contract/errors.js'
import { adminApp, TOKEN } from '../http/admin/fakes.test-support.js'
import { capture } from './admin-api.test-support.js'
import { main } from './main.js'
import { modelView } from '../contract/admin.test-support.js'

let close: (() => Promise<void>) | undefined
afterEach(async () => {
  await close?.()
  close = undefined
})

async function serve() {
  const fixture = adminApp([modelView({ id: 'id-tiny', name: 'tiny', aliases: ['t'] })])
  await fixture.app.listen({ host: '127.0.0.1', port: 0 })
  close = () => fixture.app.close()
  return { ...fixture, url: `http://127.0.0.1:${(fixture.app.server.address() as AddressInfo).port}` }
}

async function cortex(argv: string[], url: string, token = TOKEN) {
  const out = capture({ CORTEX_ADMIN_TOKEN: token })
  const code = await main([...argv, '--url', url], out.io)
  return { code, stdout: out.stdout(), stderr: out.stderr() }
}

describe('cortex commands against the real admin API', () => {
  it('lists, starts by alias and stops', async () => {
    const { url, models } = await serve()
    expect((await cortex(['models', 'list'], url)).stdout).toContain('tiny  llamacpp  process  stopped  0/1')
    expect(await cortex(['models', 'start', 't'], url)).toMatchObject({
      code: 0,
      stdout: 'starting tiny…\ntiny is running (0/1 replicas)\n',
    })
    expect(await cortex(['models', 'stop', 'tiny'], url)).toMatchObject({ code: 0, stdout: 'stopping tiny…\ntiny is stopped\n' })
    expect(models.calls).toEqual([
      ['start', 'id-tiny', { wait: true }],
      ['stop', 'id-tiny'],
    ])
  })

  it('prints the diagnosis of a failed start from the real error envelope', async () => {
    const { url, models } = await serve()
    const diagnosis = { cause: 'port_in_use', message: 'port 8080 is taken', exitCode: 1, logTail: ['bind: address in use'] }
    models.startImpl = async () => {
      throw new CortexError('model_start_failed', 'model "tiny" failed to start: port 8080 is taken', { diagnosis })
    }
    expect(await cortex(['models', 'start', 'tiny'], url)).toEqual({
      code: 1,
      stdout: 'starting tiny…\n',
      stderr:
        'model "tiny" failed to start: port 8080 is taken\ncause: port_in_use, exit code 1\nlast log lines:\n  bind: address in use\n',
    })
  })

  it('reads Docker and the models from the event stream for status', async () => {
    const { url } = await serve()
    const result = await cortex(['status'], url)
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`Gateway  ${url}  answering\nDocker   available\nModels   1\n`)
  })

  it('says the token was refused', async () => {
    const { url } = await serve()
    const result = await cortex(['models', 'list'], url, 'ctx_admin_wrong')
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^the admin token was refused: /)
  })
})
