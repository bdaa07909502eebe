import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { hashKey } from '../auth/keys.js'
import { openDatabase, openStore } from '../store/open.js'
import { capture } from './admin-api.test-support.js'
import { main } from './main.js'
import { USAGE } from './usage.js'

let dataDir: string
beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cortex-cli-keys-'))
})
afterEach(() => {
  fs.rmSync(dataDir, { recursive: true, force: true })
})

async function cortex(argv: string[], env: NodeJS.ProcessEnv = { CORTEX_DATA_DIR: dataDir }) {
  const out = capture(env)
  const code = await main(argv, out.io)
  return { code, stdout: out.stdout(), stderr: out.stderr() }
}

describe('cortex keys create', () => {
  it('prints the key alone on stdout and a note on stderr; the gateway’s store finds it by its hash', async () => {
    const result = await cortex(['keys', 'create', '--name', 'ci'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^sk-cortex-[A-Za-z0-9_-]{43}\n$/)
    const key = result.stdout.trim()
    const db = openDatabase(dataDir)
    const record = db.keys.findByHash(hashKey(key))
    db.close()
    expect(record).toMatchObject({ name: 'ci', scopes: ['inference', 'embeddings'], expiresAt: null, revokedAt: null })
    expect(result.stderr).toBe(`created API key "ci" (${record!.id}); the key is shown this once: store it now\n`)
  })

  it('takes every option, with lists given comma-separated or repeated, and prints KeyCreated with --json', async () => {
    await cortex(['orgs', 'create', 'acme'])
    const result = await cortex([
      'keys',
      'create',
      '--name=team',
      '--models',
      'qwen,llama',
      '--models',
      'phi',
      '--scopes',
      'inference,admin:read',
      '--rpm',
      '60',
      '--tpm',
      '10000',
      '--concurrency',
      '2',
      '--daily-tokens',
      '1000000',
      '--expires',
      '30d',
      '--ip',
      '10.0.0.0/8,192.168.1.20',
      '--org',
      'acme',
      '--key',
      'operator-chosen-key-0123456789',
      '--json',
    ])
    expect(result.code).toBe(0)
    const created = JSON.parse(result.stdout)
    expect(created).toEqual({
      key: 'operator-chosen-key-0123456789',
      apiKey: expect.objectContaining({
        name: 'team',
        prefix: 'operator-c…',
        org: 'acme',
        models: ['qwen', 'llama', 'phi'],
        scopes: ['inference', 'admin:read'],
        limits: { rpm: 60, tpm: 10_000, concurrency: 2, dailyTokens: 1_000_000 },
        ips: ['10.0.0.0/8', '192.168.1.20/32'],
        state: 'active',
      }),
    })
    // Both from the clock, read a moment apart.
    const lifetime = Date.parse(created.apiKey.expiresAt) - Date.parse(created.apiKey.createdAt)
    expect(Math.abs(lifetime - 30 * 86_400_000)).toBeLessThan(1000)
  })

  it('opts a key out of completion caches with --no-cache, kept in the database', async () => {
    expect((await cortex(['keys', 'create', '--name', 'private', '--no-cache', '--json'])).code).toBe(0)
    expect((await cortex(['keys', 'create', '--name', 'plain', '--json'])).code).toBe(0)
    const db = openDatabase(dataDir)
    expect([db.keys.get('private')?.cache, db.keys.get('plain')?.cache]).toEqual([false, undefined])
    db.close()
    const listed = JSON.parse((await cortex(['keys', 'list', '--json'])).stdout) as Array<{ name: string; cache?: boolean }>
    expect(listed.map((k) => [k.name, k.cache])).toEqual([
      ['plain', undefined],
      ['private', false],
    ])
  })

  it('makes a user’s key with --user (name or id), in the user’s organization', async () => {
    await cortex(['orgs', 'create', 'acme'])
    await cortex(['orgs', 'create', 'beta'])
    const db = openDatabase(dataDir)
    const ann = db.users.create({
      orgId: db.orgs.get('acme')!.id,
      name: 'ann',
      role: 'member',
      password: 'correct horse battery',
    })
    db.close()
    const result = await cortex(['keys', 'create', '--name', 'ann-laptop', '--user', 'ann', '--json'])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout).apiKey).toMatchObject({ name: 'ann-laptop', org: 'acme', user: 'ann' })
    expect((await cortex(['keys', 'create', '--name', 'by-id', '--user', ann.id, '--org', 'acme'])).code).toBe(0)
    expect(await cortex(['keys', 'create', '--name', 'ci', '--user', 'ann', '--org', 'beta'])).toEqual({
      code: 2,
      stdout: '',
      stderr: `cortex keys create: --org: user "ann" is in "acme", not "beta": a key takes its user's organization, so give none or "acme"\n`,
    })
    expect(await cortex(['keys', 'create', '--name', 'ci', '--user', 'bob'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'cortex keys create: --user: no user "bob"; create one with POST /admin/api/users {org, name, role, password}\n',
    })
    const list = await cortex(['keys', 'list'])
    expect(list.stdout.split('\n')[1]!.split(/ {2,}/).slice(1, 5)).toEqual(['ann-laptop', expect.any(String), 'acme', 'ann'])
  })

  it.each([
    [['--rpm', '0'], '--rpm expects a whole number of at least 1 (got "0")'],
    [['--tpm', '1.5'], '--tpm expects a whole number of at least 1 (got "1.5")'],
    [['--daily-tokens', 'lots'], '--daily-tokens expects a whole number of at least 1 (got "lots")'],
    [['--concurrency=-1'], '--concurrency expects a whole number of at least 1 (got "-1")'],
    [['--nme', 'x'], "Unknown option '--nme'"],
    [['extra'], 'unexpected argument "extra"'],
  ])('refuses %j as a usage error (exit 2) and creates nothing', async (args, message) => {
    const result = await cortex(['keys', 'create', '--name', 'ci', ...args])
    expect(result).toEqual({ code: 2, stdout: '', stderr: expect.stringContaining(message) })
    expect(result.stderr).toContain(USAGE)
    expect(fs.existsSync(path.join(dataDir, 'cortex.db'))).toBe(false)
  })

  it('needs --name', async () => {
    const result = await cortex(['keys', 'create'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^cortex keys create: missing --name: the key’s name, e\.g\. --name ci\n/)
  })

  it.each([
    [['--scopes', 'inference,write'], '--scopes: unknown scope "write" (expected inference, embeddings, admin:read)'],
    [['--expires', '0'], '--expires: a key must expire in the future (got "0"); give a duration such as 30d or 12h'],
    [['--ip', '10.0.0.0/33'], '--ip: "10.0.0.0/33" has an invalid prefix length (expected /0 to /32 for an IPv4 address)'],
    [['--key', 'short'], '--key: a key must have at least 20 characters (got 5)'],
    [
      ['--org', 'globex'],
      '--org: no organization "globex" (there are no organizations yet); create it with `cortex orgs create globex` or POST /admin/api/orgs',
    ],
  ])('refuses %j naming the flag, exit 2', async (args, message) => {
    const result = await cortex(['keys', 'create', '--name', 'ci', ...args])
    expect(result).toEqual({ code: 2, stdout: '', stderr: `cortex keys create: ${message}\n` })
  })

  it('refuses a taken name with exit 1', async () => {
    await cortex(['keys', 'create', '--name', 'ci'])
    const again = await cortex(['keys', 'create', '--name', 'ci'])
    expect(again).toEqual({ code: 1, stdout: '', stderr: 'cortex keys create: an API key named "ci" already exists\n' })
  })

  it('finds the data directory by --data-dir over CORTEX_DATA_DIR, as serve does', async () => {
    const other = path.join(dataDir, 'other')
    expect((await cortex(['keys', 'create', '--name', 'ci', '--data-dir', other])).code).toBe(0)
    const db = openDatabase(other)
    expect(db.keys.list().map((k) => k.name)).toEqual(['ci'])
    db.close()
  })

  it('exits 2 on a config file that does not load', async () => {
    const result = await cortex(['keys', 'list', '--config', path.join(dataDir, 'missing.yaml')])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('config file not found')
  })
})

describe('cortex keys list', () => {
  it('says how to make one when there are none', async () => {
    expect(await cortex(['keys', 'list'])).toEqual({
      code: 0,
      stderr: '',
      stdout: 'no API keys: create one with `cortex keys create --name <name>`\n',
    })
  })

  it('prints a table, and the views with --json, never a key or a hash', async () => {
    await cortex(['orgs', 'create', 'acme'])
    const key = (
      await cortex(['keys', 'create', '--name', 'team', '--org', 'acme', '--rpm', '60', '--models', 'qwen'])
    ).stdout.trim()
    await cortex(['keys', 'create', '--name', 'ci', '--expires', '1h', '--scopes', 'embeddings'])
    await cortex(['keys', 'revoke', 'team'])
    const { code, stdout } = await cortex(['keys', 'list'])
    expect(code).toBe(0)
    const lines = stdout.trimEnd().split('\n')
    expect(lines[0]!.split(/\s+/)).toEqual([
      'ID',
      'NAME',
      'PREFIX',
      'ORG',
      'USER',
      'MODELS',
      'SCOPES',
      'LIMITS',
      'EXPIRES',
      'STATE',
    ])
    const cells = lines.slice(1).map((line) => line.split(/ {2,}/))
    expect(cells[0]).toEqual([
      expect.stringMatching(/^key_[0-9a-f]{12}$/),
      'ci',
      expect.stringMatching(/^sk-cortex-.{4}…$/),
      '-',
      '-',
      'all',
      'embeddings',
      '-',
      expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/),
      'active',
    ])
    expect(cells[1]!.slice(1)).toEqual([
      'team',
      `${key.slice(0, 14)}…`,
      'acme',
      '-',
      'qwen',
      'inference,embeddings',
      'rpm=60',
      'never',
      'revoked',
    ])
    const json = await cortex(['keys', 'list', '--json'])
    expect(JSON.parse(json.stdout).map((k: { name: string; state: string }) => `${k.name}:${k.state}`)).toEqual([
      'ci:active',
      'team:revoked',
    ])
    expect(stdout + json.stdout).not.toContain(key.slice(14))
    expect(json.stdout).not.toContain(hashKey(key))
  })

  it('refuses the options of create', async () => {
    const result = await cortex(['keys', 'list', '--rpm', '5'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^cortex keys list: --rpm is an option of keys create\n/)
  })
})

describe('cortex keys revoke', () => {
  it('is seen at once by a gateway holding the same data directory (no cache), by id or name', async () => {
    const serve = openStore(dataDir)
    try {
      const key = (await cortex(['keys', 'create', '--name', 'ci'])).stdout.trim()
      const found = serve.keys.findByHash(hashKey(key))
      expect(found?.revokedAt).toBeNull()
      const result = await cortex(['keys', 'revoke', found!.id])
      expect(result).toEqual({
        code: 0,
        stderr: '',
        stdout: `revoked API key "ci" (${found!.id}): it is refused from now on\n`,
      })
      expect(serve.keys.findByHash(hashKey(key))?.revokedAt).toEqual(expect.any(Number))
      const again = await cortex(['keys', 'revoke', 'ci'])
      expect(again.stdout).toMatch(/^API key "ci" \(key_[0-9a-f]{12}\) was already revoked at \d{4}-.*Z\n$/)
    } finally {
      serve.close()
    }
  })

  it('fails with exit 1 for an unknown key, and needs exactly one', async () => {
    expect(await cortex(['keys', 'revoke', 'nope'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'cortex keys revoke: no API key with id or name "nope"; `cortex keys list` shows them\n',
    })
    expect((await cortex(['keys', 'revoke'])).code).toBe(2)
    expect((await cortex(['keys', 'revoke', 'a', 'b'])).stderr).toMatch(/^cortex keys revoke: unexpected argument "b"\n/)
  })
})

describe('cortex keys', () => {
  it('needs a known subcommand', async () => {
    expect((await cortex(['keys'])).stderr).toMatch(/^cortex keys: missing subcommand \(expected create, list or revoke\)\n/)
    expect((await cortex(['keys', 'delete'])).code).toBe(2)
    expect(await cortex(['keys', '--help'])).toEqual({ code: 0, stdout: USAGE, stderr: '' })
  })
})
