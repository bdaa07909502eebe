import Type from 'typebox'
import { findOrg, keyView, orgView, parseKeySpec } from '../../auth/keys.js'
import type { ApiKeyRecord, KeyRepo, OrgRepo, UserRecord, UserRepo } from '../../auth/types.js'
import { CortexError } from '../../contract/errors.js'
import {
  ApiKeyView,
  KeyCreateBody,
  KeyCreated,
  OrgCreateBody,
  OrgView,
  UserCreateBody,
  UsersQuery,
  UserView,
} from '../../contract/index.js'
import type { AdminApp } from './index.js'

export interface KeyRouteDeps {
  keys: KeyRepo
  orgs: OrgRepo
  users: UserRepo
  now?: () => number
}

const Params = Type.Object({ id: Type.String({ minLength: 1 }) })
const KeysQuery = Type.Object({ org: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false })

/**
 * `/keys`, `/orgs`, `/users`: the same validation as `cortex keys create` (auth/keys.ts). The response schemas are a
 * second guard: a key's hash or a user's password hash is never serialized, whatever a repo returns.
 */
export function keyRoutes(app: AdminApp, deps: KeyRouteDeps): void {
  const { keys, orgs, users } = deps
  const now = deps.now ?? Date.now
  const orgName = (id: string | null) => (id === null ? null : (orgs.get(id)?.name ?? null))
  const view = (record: ApiKeyRecord) => keyView(record, orgName(record.orgId), now())

  // `?org=` lists one organization's keys (by its name or id).
  app.get('/keys', { schema: { querystring: KeysQuery, response: { 200: Type.Array(ApiKeyView) } } }, (req) => {
    const names = new Map(orgs.list().map((o) => [o.id, o.name]))
    const orgId = req.query.org === undefined ? undefined : findOrg(req.query.org, orgs).id
    const at = now()
    return keys
      .list()
      .filter((k) => orgId === undefined || k.orgId === orgId)
      .map((k) => keyView(k, k.orgId === null ? null : (names.get(k.orgId) ?? null), at))
  })
  app.post('/keys', { schema: { body: KeyCreateBody, response: { 201: KeyCreated } } }, (req, reply) => {
    const { record, secret } = keys.create(parseKeySpec(req.body, orgs, now()))
    req.log.info({ keyId: record.id, name: record.name }, 'API key created')
    reply.code(201)
    return { key: secret, apiKey: view(record) }
  })
  app.delete('/keys/:id', { schema: { params: Params, response: { 200: ApiKeyView } } }, (req) => {
    const record = keys.revoke(req.params.id)
    if (record === undefined) throw new CortexError('not_found', `no API key with id or name "${req.params.id}"`)
    req.log.info({ keyId: record.id, name: record.name }, 'API key revoked')
    return view(record)
  })

  app.get('/orgs', { schema: { response: { 200: Type.Array(OrgView) } } }, () => orgs.list().map(orgView))
  app.post('/orgs', { schema: { body: OrgCreateBody, response: { 201: OrgView } } }, (req, reply) => {
    const org = orgs.create(req.body.name)
    req.log.info({ orgId: org.id, name: org.name }, 'organization created')
    reply.code(201)
    return orgView(org)
  })

  app.get('/users', { schema: { querystring: UsersQuery, response: { 200: Type.Array(UserView) } } }, (req) => {
    const names = new Map(orgs.list().map((o) => [o.id, o.name]))
    const org = req.query.org === undefined ? undefined : findOrg(req.query.org, orgs)
    return users.list(org?.id).map((u) => userView(u, names.get(u.orgId) ?? u.orgId))
  })
  app.post('/users', { schema: { body: UserCreateBody, response: { 201: UserView } } }, (req, reply) => {
    const { org: wanted, name, role, password } = req.body
    const org = findOrg(wanted, orgs)
    const user = users.create({ orgId: org.id, name, role, password })
    req.log.info({ userId: user.id, name: user.name, org: org.name }, 'user created')
    reply.code(201)
    return userView(user, org.name)
  })
}

function userView(user: UserRecord, org: string): UserView {
  return { id: user.id, name: user.name, org, role: user.role, createdAt: new Date(user.createdAt).toISOString() }
}
