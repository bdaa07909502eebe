import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openStore } from '../store/open.js'
import { capture } from './admin-api.test-support.js'
import { main } from './main.js'

let dataDir: string
beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-cli-orgs-'))
})
afterEach(() => {
  fs.rmSync(dataDir, { recursive: true, force: true })
})

async function cortex(argv: string[]) {
  const out = capture({ CORTEX_DATA_DIR: dataDir })
  const code = await main(argv, out.io)
  return { code, stdout: out.stdout(), stderr: out.stderr() }
}

describe('cortex orgs', () => {
  it('creates organizations while a gateway holds the data directory, which sees them at once', async () => {
    const serve = openStore(dataDir)
    try {
      const result = await cortex(['orgs', 'create', 'acme'])
      const acme = serve.orgs.get('acme')
      expect(result).toEqual({ code: 0, stderr: '', stdout: `created organization "acme" (${acme!.id})\n` })
      const json = await cortex(['orgs', 'create', 'globex', '--json'])
      expect(JSON.parse(json.stdout)).toEqual({ id: serve.orgs.get('globex')!.id, name: 'globex', createdAt: expect.any(String) })
    } finally {
      serve.close()
    }
  })

  it('lists them as a table by name, or as JSON', async () => {
    expect((await cortex(['orgs', 'list'])).stdout).toBe('no organizations: create one with `cortex orgs create <name>`\n')
    await cortex(['orgs', 'create', 'globex'])
    await cortex(['orgs', 'create', 'acme'])
    const { code, stdout } = await cortex(['orgs', 'list'])
    expect(code).toBe(0)
    const rows = stdout
      .trimEnd()
      .split('\n')
      .map((line) => line.split(/ {2,}/))
    expect(rows.map((r) => r[1])).toEqual(['NAME', 'acme', 'globex'])
    expect(rows[1]).toEqual([expect.stringMatching(/^org_[0-9a-f]{12}$/), 'acme', expect.stringMatching(/^\d{4}-.*Z$/)])
    const views = JSON.parse((await cortex(['orgs', 'list', '--json'])).stdout)
    expect(views.map((o: { name: string }) => o.name)).toEqual(['acme', 'globex'])
  })

  it('refuses a taken or invalid name with exit 1', async () => {
    await cortex(['orgs', 'create', 'acme'])
    expect(await cortex(['orgs', 'create', 'acme'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'cortex orgs create: an organization named "acme" already exists\n',
    })
    expect((await cortex(['orgs', 'create', ' acme'])).stderr).toBe(
      'cortex orgs create: name: expected a name without leading or trailing spaces\n',
    )
  })

  it('treats a missing name, an extra argument or an unknown subcommand as usage errors', async () => {
    expect((await cortex(['orgs', 'create'])).stderr).toMatch(/^cortex orgs create: missing the organization’s name\n/)
    expect((await cortex(['orgs', 'create', 'a', 'b'])).code).toBe(2)
    expect((await cortex(['orgs', 'list', 'x'])).code).toBe(2)
    expect((await cortex(['orgs', 'remove', 'acme'])).stderr).toMatch(
      /^cortex orgs: unknown subcommand "remove" \(expected create or list\)\n/,
    )
  })
})
