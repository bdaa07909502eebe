import Type from 'typebox'
import { createKey, findOrg, findUser, keyView, orgView, parseKeySpec } from '../../auth/keys.js'
import type { SessionService } from '../../auth/sessions.js'
import type { AdminCaller, DeletableUserRepo, KeyRepo, OrgRepo, UserRecord } from '../../auth/types.js'
import type { ApiKeyRecord } from '../../contract/keys.js'
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
  users: DeletableUserRepo
  /** A deleted user's sessions end; without sessions there are none. */
  sessions?: Pick<SessionService, 'list' | 'end'> | undefined
  /** A deleted user's conversations go. */
  chats?: { removeUser(userId: string): Promise<number> } | undefined
  now?: () => number
}

const Params = Type.Object({ id: Type.String({ minLength: 1 }) })
const KeysQuery = Type.Object(
  { org: Type.Optional(Type.String({ minLength: 1 })), user: Type.Optional(Type.String({ minLength: 1 })) },
  { additionalProperties: false },
)

/**
 * `/keys`, `/orgs`, `/users`: the same validation as `cortex keys create` (auth/keys.ts). The response schemas are a
 * second guard: a key's hash or a user's password hash is never serialized, whatever a repo returns.
 */
export function keyRoutes(app: AdminApp, deps: KeyRouteDeps): void {
  const { keys, orgs, users } = deps
  const now = deps.now ?? Date.now
  const view = (record: ApiKeyRecord) => {
    const org = record.orgId === null ? null : (orgs.get(record.orgId)?.name ?? null)
    const user = record.userId === null ? null : (users.get(record.userId)?.name ?? null)
    return keyView(record, { org, user }, now())
  }

  // `?org=` lists one organization's keys, `?user=` one user's (each by name or id).
  app.get('/keys', { schema: { querystring: KeysQuery, response: { 200: Type.Array(ApiKeyView) } } }, (req) => {
    const orgNames = new Map(orgs.list().map((o) => [o.id, o.name]))
    const userNames = new Map(users.list().map((u) => [u.id, u.name]))
    const nameOf = (names: Map<string, string>, id: string | null) => (id === null ? null : (names.get(id) ?? null))
    const orgId = req.query.org === undefined ? undefined : findOrg(req.query.org, orgs).id
    const userId = req.query.user === undefined ? undefined : findUser(req.query.user, users).id
    const at = now()
    const own = memberId(req.adminCaller)
    return keys
      .list()
      .filter((k) => own === null || k.userId === own)
      .filter((k) => (orgId === undefined || k.orgId === orgId) && (userId === undefined || k.userId === userId))
      .map((k) => keyView(k, { org: nameOf(orgNames, k.orgId), user: nameOf(userNames, k.userId) }, at))
  })
  app.post('/keys', { schema: { body: KeyCreateBody, response: { 201: KeyCreated } } }, (req, reply) => {
    const own = memberId(req.adminCaller)
    if (own !== null && ((req.body.user !== undefined && req.body.user !== own) || req.body.org !== undefined)) {
      throw new CortexError('role_not_allowed', 'a member makes keys for themselves only: leave out "user" and "org"')
    }
    const body = own === null ? req.body : { ...req.body, user: own }
    const { record, secret } = createKey(keys, parseKeySpec(body, { orgs, users }, now()))
    req.log.info({ keyId: record.id, name: record.name }, 'API key created')
    reply.code(201)
    return { key: secret, apiKey: view(record) }
  })
  app.delete('/keys/:id', { schema: { params: Params, response: { 200: ApiKeyView } } }, (req) => {
    const own = memberId(req.adminCaller)
    // A member's guess at another user's key is a 404, as for a key that does not exist.
    if (own !== null && !keys.list().some((k) => k.userId === own && (k.id === req.params.id || k.name === req.params.id)))
      throw new CortexError('not_found', `no API key with id or name "${req.params.id}"`)
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
  // Admins only (members' routes are an allowlist). The row stays, marked deleted, for the keys and usage rows that
  // name it. The account goes first, so nothing signs in or authenticates while the rest is undone; its sessions are
  // listed before, since a session list leaves out sessions of users who no longer exist.
  app.delete('/users/:id', { schema: { params: Params } }, async (req, reply) => {
    const user = users.get(req.params.id)
    const sessions = deps.sessions?.list().filter((s) => user !== undefined && s.record.userId === user.id) ?? []
    if (user === undefined || !users.remove(user.id))
      throw new CortexError('not_found', `no user with id or name "${req.params.id}"`)
    for (const session of sessions) deps.sessions!.end(session.record.id)
    const revoked = keys.list().filter((k) => k.userId === user.id && k.revokedAt === null)
    for (const key of revoked) keys.revoke(key.id)
    const chats = (await deps.chats?.removeUser(user.id)) ?? 0
    req.log.info({ userId: user.id, name: user.name, keys: revoked.length, chats }, 'user deleted')
    return reply.code(204).send()
  })
}

function userView(user: UserRecord, org: string): UserView {
  return { id: user.id, name: user.name, org, role: user.role, createdAt: new Date(user.createdAt).toISOString() }
}

/** The user id of a member's session; null for admins, whose key routes are not narrowed. */
function memberId(caller: AdminCaller): string | null {
  return caller.kind === 'member' ? caller.user.id : null
}
