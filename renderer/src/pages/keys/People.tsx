import { useState, type FormEvent } from 'react'
import type { UserView } from '../../../../gateway/contract/index.js'
import * as api from '../../api.js'
import { Empty } from '../../components/States.js'
import { useAction } from '../../components/useAction.js'
import { useStore } from '../../store/index.js'
import { loadOrgs, loadUsers } from '../../store/loaders.js'
import { dataOf } from '../../store/remote.js'
import { GridTable, Listing } from './Listing.js'
import { Sessions } from './Sessions.js'

const MIN_PASSWORD = 12
const day = (iso: string) => new Date(iso).toLocaleDateString(undefined, { dateStyle: 'medium' })

/** `/keys/people` (admins): organizations, the console's users and the signed-in sessions. The gateway has no
 *  delete for organizations or users, so there is none here. */
export function People() {
  return (
    <div className="people">
      <Orgs />
      <Users />
      <Sessions />
    </div>
  )
}

function Orgs() {
  const orgs = useStore((s) => s.orgs)
  const [name, setName] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const { busy, error, run } = useAction()
  const add = (e: FormEvent) => {
    e.preventDefault()
    const wrong = name.trim() === '' ? 'Give the organization a name, e.g. the team that will use it.' : null
    setProblem(wrong)
    if (wrong !== null) return
    void run('org', async () => {
      await api.createOrg({ name: name.trim() })
      setName('')
      await loadOrgs()
    })
  }
  return (
    <section className="panel" aria-labelledby="orgs-title">
      <h2 id="orgs-title">Organizations</h2>
      <Listing
        remote={orgs}
        feature="Organizations"
        retry={() => void loadOrgs()}
        empty={<Empty title="No organizations yet">Keys and users can belong to one; usage is reported per organization.</Empty>}
      >
        {(list) => (
          <ul className="plain" data-testid="orgs">
            {list.map((o) => (
              <li key={o.id}>{o.name}</li>
            ))}
          </ul>
        )}
      </Listing>
      <form className="form-row inline-form" onSubmit={add} noValidate>
        <label className="field">
          <span>New organization</span>
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={64} data-testid="org-name" />
        </label>
        <button type="submit" disabled={busy !== null} data-testid="org-create">
          {busy ? 'Adding…' : 'Add organization'}
        </button>
      </form>
      {(problem ?? error) && (
        <p className="form-error" role="alert" data-testid="org-error">
          {problem ?? error}
        </p>
      )}
    </section>
  )
}

const NO_USER = { name: '', org: '', role: 'member' as UserView['role'], password: '' }

function Users() {
  const users = useStore((s) => s.users)
  const orgList = useStore((s) => dataOf(s.orgs)) ?? []
  const [user, setUser] = useState(NO_USER)
  const [problem, setProblem] = useState<string | null>(null)
  const { busy, error, run } = useAction()
  const add = (e: FormEvent) => {
    e.preventDefault()
    const wrong =
      user.name.trim() === ''
        ? 'Give the user a name: they sign in with it.'
        : user.org === ''
          ? 'Choose the organization the user belongs to (add one first).'
          : user.password.length < MIN_PASSWORD
            ? `The password needs at least ${MIN_PASSWORD} characters (it has ${user.password.length}).`
            : null
    setProblem(wrong)
    if (wrong !== null) return
    void run('user', async () => {
      await api.createUser({ name: user.name.trim(), org: user.org, role: user.role, password: user.password })
      setUser({ ...NO_USER, org: user.org })
      await loadUsers()
    })
  }
  return (
    <section className="panel" aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      <Listing
        remote={users}
        feature="Users"
        retry={() => void loadUsers()}
        empty={
          <Empty title="No users yet">
            People sign in with a name and password; admins manage everything, members use the models and their own keys.
          </Empty>
        }
      >
        {(list) => (
          <GridTable testId="users" columns={['Name', 'Organization', 'Role', 'Added']}>
            {list.map((u) => (
              <tr key={u.id}>
                <td>{u.name}</td>
                <td>{u.org}</td>
                <td>{u.role}</td>
                <td className="nums">{day(u.createdAt)}</td>
              </tr>
            ))}
          </GridTable>
        )}
      </Listing>
      <form onSubmit={add} noValidate aria-labelledby="new-user-title">
        <h3 id="new-user-title">New user</h3>
        <div className="form-row">
          <label className="field">
            <span>Name</span>
            <input
              value={user.name}
              onChange={(e) => setUser({ ...user, name: e.target.value })}
              maxLength={64}
              autoComplete="off"
              data-testid="user-name"
            />
          </label>
          <label className="field">
            <span>Organization</span>
            <select value={user.org} onChange={(e) => setUser({ ...user, org: e.target.value })} data-testid="user-org">
              <option value="">choose…</option>
              {orgList.map((o) => (
                <option key={o.id} value={o.name}>
                  {o.name}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Role</span>
            <select value={user.role} onChange={(e) => setUser({ ...user, role: e.target.value as UserView['role'] })}>
              <option value="member">member: models and their own keys</option>
              <option value="admin">admin: everything</option>
            </select>
          </label>
          <label className="field">
            <span>Password ({MIN_PASSWORD} characters or more)</span>
            <input
              type="password"
              autoComplete="new-password"
              value={user.password}
              onChange={(e) => setUser({ ...user, password: e.target.value })}
              data-testid="user-password"
            />
          </label>
        </div>
        {(problem ?? error) && (
          <p className="form-error" role="alert" data-testid="user-error">
            {problem ?? error}
          </p>
        )}
        <button type="submit" disabled={busy !== null} data-testid="user-create">
          {busy ? 'Adding…' : 'Add user'}
        </button>
      </form>
    </section>
  )
}
