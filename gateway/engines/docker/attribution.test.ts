import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { modelOfContainer } from './attribution.js'
import { DockerClient } from './client.js'

const OURS = 'a'.repeat(64)
const FOREIGN = 'f'.repeat(64)

/** A daemon that answers pings and container lists (running containers carrying the filter's labels). */
async function daemon(dir: string) {
  const lists: URLSearchParams[] = []
  const state = { failing: false }
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://docker')
    if (url.pathname === '/_ping') return void res.end('OK')
    if (url.pathname === '/containers/json') {
      lists.push(url.searchParams)
      if (state.failing) {
        res.writeHead(500, { 'content-type': 'application/json' })
        return void res.end(JSON.stringify({ message: 'containerd is not running' }))
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      return void res.end(JSON.stringify([{ Id: OURS, Labels: { 'ai.cortex.model': 'm-7', 'ai.cortex.instance': 'inst-1' } }]))
    }
    res.writeHead(404).end()
  })
  const socket = path.join(dir, 'docker.sock')
  await new Promise<void>((resolve) => server.listen(socket, resolve))
  return { socket, lists, state, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

let cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn()
  cleanup = []
})

async function setup({ up }: { up: boolean }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cortex-attr-'))
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
  const d = await daemon(dir)
  cleanup.push(d.close)
  const client = new DockerClient(`unix://${d.socket}`, 60_000, pino({ level: 'silent' }), async () => {})
  cleanup.push(() => client.close())
  if (up) expect(await client.check()).toBe(true)
  return { lookup: modelOfContainer(client, 'inst-1'), lists: d.lists, state: d.state }
}

describe.skipIf(process.platform === 'win32')('modelOfContainer', () => {
  it("names the model on this instance's container and null for anyone else's, asking the daemon once", async () => {
    const { lookup, lists } = await setup({ up: true })
    expect(await Promise.all([lookup(OURS), lookup(FOREIGN)])).toEqual(['m-7', null])
    expect(lists).toHaveLength(1)
    expect(JSON.parse(lists[0]!.get('filters')!)).toEqual({ label: ['ai.cortex.managed=true', 'ai.cortex.instance=inst-1'] })
    // Ids are never reused: what was learnt holds.
    expect(await lookup(OURS)).toBe('m-7')
    expect(await lookup(FOREIGN)).toBe(null)
    expect(lists).toHaveLength(1)
  })

  it('fails with what the daemon said, and asks again at the next lookup', async () => {
    const { lookup, lists, state } = await setup({ up: true })
    state.failing = true
    await expect(lookup(OURS)).rejects.toThrow(/containerd is not running/)
    state.failing = false
    expect(await lookup(OURS)).toBe('m-7')
    expect(lists).toHaveLength(2)
  })

  it('tells nothing, and asks nothing, while Docker is unavailable', async () => {
    const { lookup, lists } = await setup({ up: false })
    expect(await lookup(OURS)).toBe(null)
    expect(lists).toHaveLength(0)
  })
})
