import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { ConnectCancelled, connect, freePort, gatewayDeps, type PortDialog } from '../../electron/main/connect.js'
import { loadConfig } from '../../gateway/index.js'
import { startCortex, type CortexProcess } from '../support/cortex-process.js'
import { tinyModelConfig } from '../support/tiny-config.js'

/** Issue 13's embed-or-attach decision on real parts: a `cortex serve` started here, and the core started in-process. */

const dir = mkdtempSync(path.join(os.tmpdir(), 'cortex-desktop-connect-'))
const configFile = path.join(dir, 'cortex.yaml')
const env = (dataDir: string): NodeJS.ProcessEnv => ({ ...process.env, CORTEX_DATA_DIR: dataDir, CORTEX_ADMIN_TOKEN: '' })
const configOf = (dataDir: string) => loadConfig({ flags: { config: configFile, dataDir }, env: env(dataDir) })

/** Records what it was asked and answers as told. */
function dialog(answers: Array<number | null>): PortDialog & { asked: Array<[number, number]> } {
  const asked: Array<[number, number]> = []
  return { asked, askForPort: async (taken, suggestion) => (asked.push([taken, suggestion]), answers.shift() ?? null) }
}

beforeAll(() => {
  writeFileSync(configFile, tinyModelConfig(inject('llamaServer'), inject('tinyModel'), 'tiny', 256))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('desktop embed or attach', () => {
  describe('with a cortex serve of the same data directory running', () => {
    const dataDir = path.join(dir, 'served')
    let serve: CortexProcess
    beforeAll(async () => {
      serve = await startCortex(['serve', '--config', configFile, '--data-dir', dataDir, '--port', '0'], env(dataDir))
    })
    afterAll(() => serve?.stop())

    it('attaches as its client, never starts a second gateway, and the admin client drives it', async () => {
      const ask = dialog([])
      const connection = await connect(31313, gatewayDeps(configOf(dataDir), env(dataDir), ask))
      try {
        expect(connection).toMatchObject({ mode: 'attach', url: serve.url })
        expect(ask.asked).toEqual([])
        const [tiny] = await connection.admin.listModels()
        expect(tiny).toMatchObject({ name: 'tiny', status: { state: 'stopped' } })
        const signIn = await connection.admin.signInCode()
        expect(signIn.url).toMatch(new RegExp(`^${serve.url}/\\?code=`))
        expect(await connection.admin.setPaused(true)).toEqual({ paused: true })
        expect(await connection.admin.setPaused(false)).toEqual({ paused: false })
      } finally {
        await connection.close()
      }
      // Closing an attached app leaves the server serving.
      expect((await fetch(`${serve.url}/health`)).status).toBe(200)
    })
  })

  describe('with no server running', () => {
    it('starts the core in this process on 127.0.0.1 at the port asked for, and close stops it', async () => {
      const dataDir = path.join(dir, 'embedded')
      const port = await freePort()
      const connection = await connect(port, gatewayDeps(configOf(dataDir), env(dataDir), dialog([])))
      try {
        expect(connection).toMatchObject({ mode: 'embed', url: `http://127.0.0.1:${port}` })
        expect((await connection.admin.listModels()).map((m) => m.name)).toEqual(['tiny'])
      } finally {
        await connection.close()
      }
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow()
    })

    describe('and the port held by another program', () => {
      let squatter: Server
      let taken: number
      beforeAll(async () => {
        squatter = createServer()
        await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve))
        taken = (squatter.address() as { port: number }).port
      })
      afterAll(() => new Promise<void>((resolve) => squatter.close(() => resolve())))

      it('asks for another port, naming the taken one, and embeds on the one chosen', async () => {
        const dataDir = path.join(dir, 'asked')
        const other = await freePort()
        const ask = dialog([other])
        const connection = await connect(taken, gatewayDeps(configOf(dataDir), env(dataDir), ask))
        try {
          expect(ask.asked).toEqual([[taken, expect.any(Number)]])
          expect(ask.asked[0]![1]).not.toBe(taken)
          expect(connection).toMatchObject({ mode: 'embed', url: `http://127.0.0.1:${other}` })
        } finally {
          await connection.close()
        }
      })

      it('quits with a reason, not a crash, when no other port is chosen', async () => {
        const dataDir = path.join(dir, 'declined')
        await expect(connect(taken, gatewayDeps(configOf(dataDir), env(dataDir), dialog([null])))).rejects.toThrow(
          new ConnectCancelled(`port ${taken} is in use and no other port was chosen`),
        )
      })
    })
  })
})
