import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { ApiKeyRecord, KeyCreateBody } from '../contract/keys.js'
import { hashKey, keyView, parseKeySpec } from './keys.js'
import type { OrgRecord, OrgRepo, UserRecord, UserRepo } from './types.js'
import { newKey } from './keys.test-support.js'

const NOW = Date.UTC(2025, 5, 1, 12)
const DAY = 86_400_000

const readOnly = () => {
  throw new Error('parseKeySpec only reads')
}
const byIdOrName =
  <T extends { id: string; name: string }>(list: T[]) =>
  (idOrName: string) =>
    list.find((r) => r.id === idOrName) ?? list.find((r) => r.name === idOrName)

/** An OrgRepo over a fixed list. */
function orgRepo(list: OrgRecord[] = []): OrgRepo {
  return { create: readOnly, get: byIdOrName(list), list: () => list }
}

/** A UserRepo over a fixed list. */
function userRepo(list: UserRecord[] = []): UserRepo {
  return { create: readOnly, get: byIdOrName(list), list: () => list, verify: readOnly }
}

const acme: OrgRecord = { id: 'org_acme', name: 'acme', createdAt: 0 }
const beta: OrgRecord = { id: 'org_beta', name: 'beta', createdAt: 0 }
const ann: UserRecord = { id: 'usr_ann', orgId: 'org_acme', name: 'ann', role: 'member', createdAt: 0 }
const parse = (body: Partial<KeyCreateBody>, orgs = orgRepo([acme, beta])) =>
  parseKeySpec({ name: 'ci', ...body }, { orgs, users: userRepo([ann]) }, NOW)

/** The CortexError parseKeySpec throws, for matching its fields. */
function failure(body: Partial<KeyCreateBody>, orgs?: OrgRepo) {
  try {
    parse(body, orgs)
  } catch (err) {
    return err
  }
  throw new Error(`accepted ${JSON.stringify(body)}`)
}

describe('parseKeySpec', () => {
  it('gives a key with only a name the default scopes, no limits, no expiry and every model', () => {
    expect(parse({})).toEqual(newKey())
  })

  it('keeps every option, resolving the organization by name or id and the expiry from now', () => {
    const body: KeyCreateBody = {
      name: 'team',
      models: ['qwen', 'llama', 'qwen'],
      scopes: ['admin:read', 'inference'],
      rpm: 60,
      tpm: 10_000,
      concurrency: 2,
      dailyTokens: 1_000_000,
      expires: '30d',
      ips: ['10.0.0.0/8', '192.168.1.20', 'fd00::/8', '::1', '10.0.0.0/8'],
      tags: ['batch', 'n8n', 'batch'],
      org: 'acme',
      key: 'operator-chosen-key-0123456789',
    }
    expect(parse(body)).toEqual({
      name: 'team',
      orgId: 'org_acme',
      userId: null,
      models: ['qwen', 'llama'],
      scopes: ['admin:read', 'inference'],
      limits: { rpm: 60, tpm: 10_000, concurrency: 2, dailyTokens: 1_000_000 },
      ips: ['10.0.0.0/8', '192.168.1.20/32', 'fd00::/8', '::1/128'],
      tags: ['batch', 'n8n'],
      expiresAt: NOW + 30 * DAY,
      secret: 'operator-chosen-key-0123456789',
    })
    expect(parse({ org: 'org_acme' }).orgId).toBe('org_acme')
    expect(parse({ expires: 3600 }).expiresAt).toBe(NOW + 3_600_000)
    expect(parse({ ips: ['0.0.0.0/0', '::/0'] }).ips).toEqual(['0.0.0.0/0', '::/0'])
  })

  it.each<[Partial<KeyCreateBody>, string, string]>([
    [{ scopes: ['inference', 'inference'] }, 'scopes', 'scopes: "inference" is listed twice'],
    [
      { scopes: ['admin:write' as never] },
      'scopes',
      'scopes: unknown scope "admin:write" (expected inference, embeddings, admin:read)',
    ],
    [{ expires: 'soon' }, 'expires', 'expires: invalid duration "soon": expected a duration like 500ms, 30s, 30m, 2h, 30d'],
    [{ expires: '0' }, 'expires', 'expires: a key must expire in the future (got "0"); give a duration such as 30d or 12h'],
    [{ expires: '100000000d' }, 'expires', 'expires: expected at most 100 years (got "100000000d")'],
    [{ expires: '-5d' }, 'expires', 'expires: a key must expire in the future (got "-5d")'],
    [{ expires: 0 }, 'expires', 'expires: a key must expire in the future (got 0)'],
    [{ expires: -60 }, 'expires', 'expires: a key must expire in the future (got -60)'],
    [{ ips: ['10.0.0.300/8'] }, 'ips', 'ips: "10.0.0.300/8" is not an IP address or CIDR (expected e.g. 10.0.0.0/8'],
    [{ ips: ['example.com'] }, 'ips', 'ips: "example.com" is not an IP address or CIDR'],
    [{ ips: ['fe80::1%eth0'] }, 'ips', 'ips: "fe80::1%eth0" is not an IP address or CIDR'],
    [{ ips: ['10.0.0.0/33'] }, 'ips', 'ips: "10.0.0.0/33" has an invalid prefix length (expected /0 to /32 for an IPv4 address)'],
    [{ ips: ['fd00::/129'] }, 'ips', 'ips: "fd00::/129" has an invalid prefix length (expected /0 to /128 for an IPv6 address)'],
    [{ ips: ['10.0.0.0/'] }, 'ips', 'ips: "10.0.0.0/" has an invalid prefix length'],
    [{ ips: ['10.0.0.0/-1'] }, 'ips', 'ips: "10.0.0.0/-1" has an invalid prefix length'],
    [{ ips: ['10.0.0.0/8/8'] }, 'ips', 'ips: "10.0.0.0/8/8" has an invalid prefix length'],
    [{ key: 'short-key' }, 'key', 'key: a key must have at least 20 characters (got 9)'],
    [{ key: 'k'.repeat(257) }, 'key', 'key: a key must have at most 256 characters (got 257)'],
    [{ key: 'operator key with spaces' }, 'key', 'key: a key must be printable ASCII without spaces or control characters'],
    [{ key: 'operator-key-0123456789\n' }, 'key', 'key: a key must be printable ASCII'],
    [{ key: 'operator-key-0123456789é' }, 'key', 'key: a key must be printable ASCII'],
    [{ name: '' }, 'name', 'name: expected a non-empty name'],
    [{ name: 'ci ' }, 'name', 'name: expected a name without leading or trailing spaces'],
    [{ name: 'c\ti' }, 'name', 'name: expected a name without control characters'],
    [{ models: ['qwen', ' '] }, 'models', 'models: expected one or more model names (leave it out to allow every model)'],
    [{ rpm: 0 }, 'rpm', 'rpm: expected a whole number of at least 1 (got 0)'],
    [{ dailyTokens: 1.5 }, 'dailyTokens', 'dailyTokens: expected a whole number of at least 1 (got 1.5)'],
  ])('refuses %j at %s', (body, param, message) => {
    expect(failure(body)).toMatchObject({
      code: 'invalid_request',
      details: { param },
      message: expect.stringContaining(message),
    })
  })

  it('never repeats a refused custom key in the message', () => {
    const key = 'operator key with spaces 0123456789'
    expect((failure({ key }) as Error).message).not.toContain('operator')
  })

  it('gives a user’s key the user’s organization, with org left out or naming that same organization', () => {
    expect(parse({ user: 'ann' })).toMatchObject({ orgId: 'org_acme', userId: 'usr_ann' })
    expect(parse({ user: 'usr_ann', org: 'acme' })).toMatchObject({ orgId: 'org_acme', userId: 'usr_ann' })
  })

  it('refuses an org other than the user’s at org, and an unknown user at user saying how to create one', () => {
    expect(failure({ user: 'ann', org: 'beta' })).toMatchObject({
      code: 'invalid_request',
      details: { param: 'org' },
      message: `org: user "ann" is in "acme", not "beta": a key takes its user's organization, so give none or "acme"`,
    })
    expect(failure({ user: 'bob' })).toMatchObject({
      code: 'invalid_request',
      details: { param: 'user' },
      message: 'user: no user "bob"; create one with POST /admin/api/users {org, name, role, password}',
    })
  })

  it('names the existing organizations and how to create one when the org is unknown', () => {
    expect(failure({ org: 'globex' })).toMatchObject({
      code: 'invalid_request',
      details: { param: 'org' },
      message:
        'org: no organization "globex" (existing: "acme", "beta"); create it with `cortex orgs create globex` or POST /admin/api/orgs',
    })
    expect((failure({ org: 'globex' }, orgRepo()) as Error).message).toBe(
      'org: no organization "globex" (there are no organizations yet); create it with `cortex orgs create globex` or POST /admin/api/orgs',
    )
  })

  it.each([
    ['a megabyte', 'o'.repeat(1_000_000)],
    ['a line break', 'acme\n<script>'],
  ])('cuts and quotes an unknown organization name of %s instead of echoing it', (_what, org) => {
    const { message } = failure({ org }) as Error
    expect(message.length).toBeLessThan(400)
    expect(message).toContain(JSON.stringify(org.slice(0, 200)).slice(0, -1))
    expect(message).toContain('`cortex orgs create NAME`')
    if (org.length > 200) expect(message).toContain(`(${org.length} characters)`)
  })
})

describe('hashKey', () => {
  it('is the hex SHA-256 of the whole key', () => {
    expect(hashKey('sk-cortex-abc')).toBe(createHash('sha256').update('sk-cortex-abc').digest('hex'))
    expect(hashKey('sk-cortex-abc')).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('keyView', () => {
  const record: ApiKeyRecord = {
    id: 'key_0123456789ab',
    name: 'ci',
    hash: 'f'.repeat(64),
    prefix: 'sk-cortex-Ab3d…',
    orgId: 'org_acme',
    userId: 'usr_ann',
    models: ['qwen'],
    scopes: ['inference'],
    limits: { rpm: 60, tpm: null, concurrency: null, dailyTokens: null },
    ips: ['10.0.0.0/8'],
    tags: ['batch'],
    createdAt: NOW - DAY,
    expiresAt: NOW + DAY,
    revokedAt: null,
  }

  const none = { org: null, user: null }

  it('shows ISO times and the organization’s and user’s names, never the hash', () => {
    const view = keyView(record, { org: 'acme', user: 'ann' }, NOW)
    expect(view).toEqual({
      id: 'key_0123456789ab',
      name: 'ci',
      prefix: 'sk-cortex-Ab3d…',
      org: 'acme',
      user: 'ann',
      models: ['qwen'],
      scopes: ['inference'],
      limits: { rpm: 60, tpm: null, concurrency: null, dailyTokens: null },
      ips: ['10.0.0.0/8'],
      tags: ['batch'],
      createdAt: '2025-05-31T12:00:00.000Z',
      expiresAt: '2025-06-02T12:00:00.000Z',
      revokedAt: null,
      state: 'active',
    })
    expect(JSON.stringify(view)).not.toContain(record.hash)
  })

  it('is expired from its expiry on, and revoked whatever its expiry', () => {
    expect(keyView(record, none, NOW + DAY).state).toBe('expired')
    expect(keyView({ ...record, expiresAt: null }, none, NOW + 1000 * DAY).state).toBe('active')
    const revoked = keyView({ ...record, revokedAt: NOW - 1 }, none, NOW + 2 * DAY)
    expect(revoked).toMatchObject({ state: 'revoked', revokedAt: '2025-06-01T11:59:59.999Z' })
  })
})
