import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { OrgRepo, UserRepo } from '../auth/types.js'
import { migrate } from './migrations.js'
import { createOrgRepo, createUserRepo } from './orgs.js'

let db: Database.Database
let orgs: OrgRepo
let users: UserRepo
const clock = Date.UTC(2025, 5, 1)
beforeEach(() => {
  db = new Database(':memory:')
  db.pragma('foreign_keys = ON')
  migrate(db, { dataDir: '/nonexistent', now: () => clock })
  orgs = createOrgRepo(db, () => clock)
  users = createUserRepo(db, () => clock)
})
afterEach(() => db.close())

const PASSWORD = 'correct horse battery'

describe('OrgRepo', () => {
  it('creates an organization with an org_ id, finds it by id or name, lists by name', () => {
    const acme = orgs.create('acme')
    expect(acme).toEqual({ id: expect.stringMatching(/^org_[0-9a-f]{12}$/), name: 'acme', createdAt: clock })
    const beta = orgs.create('beta')
    expect(orgs.get(acme.id)).toEqual(acme)
    expect(orgs.get('acme')).toEqual(acme)
    expect(orgs.get('nope')).toBeUndefined()
    expect(orgs.list()).toEqual([acme, beta])
  })

  it('refuses a taken name at param name', () => {
    orgs.create('acme')
    expect(() => orgs.create('acme')).toThrow(
      expect.objectContaining({
        code: 'invalid_request',
        message: 'an organization named "acme" already exists',
        details: { param: 'name' },
      }),
    )
  })

  it.each([
    ['', 'name: expected a non-empty name'],
    [' acme', 'name: expected a name without leading or trailing spaces'],
    ['a'.repeat(65), 'name: expected at most 64 characters (got 65)'],
    ['ac\nme', 'name: expected a name without control characters'],
  ])('refuses the name %j', (name, message) => {
    expect(() => orgs.create(name)).toThrow(message)
    expect(orgs.list()).toEqual([])
  })
})

describe('UserRepo', () => {
  it('creates a user with a usr_ id and stores a salted scrypt hash, never the password', () => {
    const acme = orgs.create('acme')
    const user = users.create({ orgId: acme.id, name: 'ann', role: 'admin', password: PASSWORD })
    expect(user).toEqual({
      id: expect.stringMatching(/^usr_[0-9a-f]{12}$/),
      orgId: acme.id,
      name: 'ann',
      role: 'admin',
      createdAt: clock,
    })
    users.create({ orgId: acme.id, name: 'bob', role: 'member', password: PASSWORD })
    const hashes = db.prepare('SELECT password_hash FROM users').pluck().all() as string[]
    for (const hash of hashes) expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/)
    expect(hashes[0]).not.toBe(hashes[1])
    expect(JSON.stringify(hashes)).not.toContain(PASSWORD)
  })

  it('verifies the right password only, and nothing for an unknown name', () => {
    const acme = orgs.create('acme')
    const ann = users.create({ orgId: acme.id, name: 'ann', role: 'member', password: PASSWORD })
    expect(users.verify('ann', PASSWORD)).toEqual(ann)
    expect(users.verify('ann', `${PASSWORD}!`)).toBeUndefined()
    expect(users.verify('bob', PASSWORD)).toBeUndefined()
  })

  it('finds a user by id, else by name', () => {
    const acme = orgs.create('acme')
    const ann = users.create({ orgId: acme.id, name: 'ann', role: 'member', password: PASSWORD })
    const named = users.create({ orgId: acme.id, name: ann.id, role: 'member', password: PASSWORD })
    expect(users.get(ann.id)).toEqual(ann)
    expect(users.get('ann')).toEqual(ann)
    expect(users.get(named.id)).toEqual(named)
    expect(users.get('nope')).toBeUndefined()
  })

  it('lists every user by name, or those of one organization', () => {
    const acme = orgs.create('acme')
    const beta = orgs.create('beta')
    const zed = users.create({ orgId: acme.id, name: 'zed', role: 'member', password: PASSWORD })
    const ann = users.create({ orgId: beta.id, name: 'ann', role: 'admin', password: PASSWORD })
    expect(users.list()).toEqual([ann, zed])
    expect(users.list(acme.id)).toEqual([zed])
    expect(users.list('org_none')).toEqual([])
  })

  it('refuses a taken name at param name, and an unknown organization', () => {
    const acme = orgs.create('acme')
    users.create({ orgId: acme.id, name: 'ann', role: 'member', password: PASSWORD })
    expect(() => users.create({ orgId: acme.id, name: 'ann', role: 'admin', password: PASSWORD })).toThrow(
      expect.objectContaining({
        code: 'invalid_request',
        message: 'a user named "ann" already exists',
        details: { param: 'name' },
      }),
    )
    expect(() => users.create({ orgId: 'org_missing', name: 'bob', role: 'admin', password: PASSWORD })).toThrow(
      'FOREIGN KEY constraint failed',
    )
  })
})
