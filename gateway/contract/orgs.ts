import Type, { type Static } from 'typebox'

const Name = Type.String({ minLength: 1, maxLength: 64 })

/** An organization as the admin API and `cortex orgs list --json` show it. */
export const OrgView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  /** ISO 8601. */
  createdAt: Type.String(),
})
export type OrgView = Static<typeof OrgView>

/** `POST /admin/api/orgs`. */
export const OrgCreateBody = Type.Object({ name: Name }, { additionalProperties: false })
export type OrgCreateBody = Static<typeof OrgCreateBody>

export const UserRole = Type.Union([Type.Literal('admin'), Type.Literal('member')])

/** A web UI user as the admin API shows it: never the password or its hash. */
export const UserView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  /** The organization's name. */
  org: Type.String(),
  role: UserRole,
  /** ISO 8601. */
  createdAt: Type.String(),
})
export type UserView = Static<typeof UserView>

/** `POST /admin/api/users`. */
export const UserCreateBody = Type.Object(
  {
    /** An organization's name or id. */
    org: Type.String({ minLength: 1 }),
    name: Name,
    role: UserRole,
    password: Type.String({ minLength: 12, maxLength: 1024 }),
  },
  { additionalProperties: false },
)
export type UserCreateBody = Static<typeof UserCreateBody>

/** `GET /admin/api/users?org=`: one organization's users (name or id), else everyone's. */
export const UsersQuery = Type.Object({ org: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false })
export type UsersQuery = Static<typeof UsersQuery>
