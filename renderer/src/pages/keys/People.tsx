import { useState, type FormEvent } from 'react'
import * as api from '../../api.js'
import { Empty, ErrorState, Loading } from '../../components/States.js'
import { useAction } from '../../components/useAction.js'
import { useStore } from '../../store/index.js'
import { loadOrgs, loadSessions, loadUsers } from '../../store/loaders.js'
import { dataOf } from '../../store/remote.js'
import { formatAgo } from '../../units.js'
import { useNow } from '../../components/useNow.js'

/** Organizations and the console's users: list and create (admins). */
export function People() {
  const orgs = useStore((s) => s.orgs)
  const users = useStore((s) => s.users)
  const orgList = dataOf(orgs)
  const userList = dataOf(users)
  const [orgName, setOrgName] = useState('')
  const [user, setUser] = useState({ name: '', org: '', role: 'member' as 'member' | 'admin', password: '' })
  const [problem, setProblem] = useState<string | null>(null)
  const orgAction = useAction()
  const userAction = useAction()

  const [orgProblem, setOrgProblem] = useState<string | null>(null)
  const addOrg = (e: FormEvent) => {
    e.preventDefault()
    const wrong = orgName.trim() === '' ? 'Give the organization a name, e.g. the team that will use it.' : null
    setOrgProblem(wrong)
    if (wrong !== null) return
    void orgAction.run('org', async () => {
      await api.createOrg({ name: orgName.trim() })
      setOrgName('')
      await loadOrgs()
    })
  }
  const addUser = (e: FormEvent) => {
    e.preventDefault()
    const wrong =
      user.name.trim() === ''
        ? 'Give the user a name.'
        : user.org === ''
          ? 'Choose the organization the user belongs to (create one first).'
          : user.password.length < 12
            ? `The password needs at least 12 characters (it has ${user.password.length}).`
            : null
    setProblem(wrong)
    if (wrong !== null) return
    void userAction.run('user', async () => {
      await api.createUser({ name: user.name.trim(), org: user.org, role: user.role, password: user.password })
      setUser({ name: '', org: user.org, role: 'member', password: '' })
      await loadUsers()
    })
  }

  return (
    <div className="people">
      <section className="panel" aria-labelledby="orgs-title">
        <h2 id="orgs-title">Organizations</h2>
        {orgList === null ? (
          orgs.status === 'error' ? (
            <ErrorState message={orgs.error} onRetry={() => void loadOrgs()} />
          ) : (
            <Loading />
          )
        ) : orgList.length === 0 ? (
          <Empty title="No organizations yet">Keys and users can belong to one; usage is reported per organization.</Empty>
        ) : (
          <ul className="plain" data-testid="orgs">
            {orgList.map((o) => (
              <li key={o.id}>{o.name}</li>
            ))}
          </ul>
        )}
        <form className="form-row inline-form" onSubmit={addOrg} noValidate>
          <label className="field">
            <span>New organization</span>
            <input value={orgName} onChange={(e) => setOrgName(e.target.value)} maxLength={64} data-testid="org-name" />
          </label>
          <button type="submit" disabled={orgAction.busy !== null} data-testid="org-create">
            Add
          </button>
        </form>
        {(orgProblem ?? orgAction.error) && (
          <p className="form-error" role="alert" data-testid="org-error">
            {orgProblem ?? orgAction.error}
          </p>
        )}
      </section>
      <section className="panel" aria-labelledby="users-title">
        <h2 id="users-title">Users</h2>
        {userList === null ? (
          users.status === 'error' ? (
            <ErrorState message={users.error} onRetry={() => void loadUsers()} />
          ) : (
            <Loading />
          )
        ) : userList.length === 0 ? (
          <Empty title="No users yet">
            People sign in with a name and password; admins manage everything, members use models and their own keys.
          </Empty>
        ) : (
          <div className="table-scroll">
            <table className="grid" data-testid="users">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Organization</th>
                  <th scope="col">Role</th>
                </tr>
              </thead>
              <tbody>
                {userList.map((u) => (
                  <tr key={u.id}>
                    <td>{u.name}</td>
                    <td>{u.org}</td>
                    <td>{u.role}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <form onSubmit={addUser} noValidate>
          <div className="form-row">
            <label className="field">
              <span>Name</span>
              <input
                value={user.name}
                onChange={(e) => setUser({ ...user, name: e.target.value })}
                maxLength={64}
                data-testid="user-name"
              />
            </label>
            <label className="field">
              <span>Organization</span>
              <select value={user.org} onChange={(e) => setUser({ ...user, org: e.target.value })} data-testid="user-org">
                <option value="">choose…</option>
                {(orgList ?? []).map((o) => (
                  <option key={o.id} value={o.name}>
                    {o.name}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span>Role</span>
              <select value={user.role} onChange={(e) => setUser({ ...user, role: e.target.value as 'member' | 'admin' })}>
                <option value="member">member</option>
                <option value="admin">admin</option>
              </select>
            </label>
            <label className="field">
              <span>Password (12 characters or more)</span>
              <input
                type="password"
                autoComplete="new-password"
                value={user.password}
                onChange={(e) => setUser({ ...user, password: e.target.value })}
                data-testid="user-password"
              />
            </label>
          </div>
          {(problem ?? userAction.error) && (
            <p className="form-error" role="alert" data-testid="user-error">
              {problem ?? userAction.error}
            </p>
          )}
          <button type="submit" disabled={userAction.busy !== null} data-testid="user-create">
            Add user
          </button>
        </form>
      </section>
      <Sessions />
    </div>
  )
}

/** Who is signed in to the console, from where; revoking one signs that browser out. */
function Sessions() {
  const sessions = useStore((s) => s.sessions)
  const list = dataOf(sessions)
  const now = useNow(60_000)
  const { busy, error, run } = useAction()
  return (
    <section className="panel" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Signed-in sessions</h2>
      {list === null ? (
        sessions.status === 'error' ? (
          <ErrorState message={sessions.error} onRetry={() => void loadSessions()} />
        ) : (
          <Loading />
        )
      ) : (
        <div className="table-scroll">
          <table className="grid" data-testid="sessions">
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">From</th>
                <th scope="col">Signed in</th>
                <th scope="col">Last seen</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((s) => (
                <tr key={s.id} data-testid={`session-${s.user.name}${s.current ? '-current' : ''}`}>
                  <td>
                    {s.user.name} <span className="muted small">{s.user.role}</span>
                    {s.current && <span className="tag">this browser</span>}
                  </td>
                  <td className="small">
                    {s.address ?? '—'}
                    <div className="muted user-agent" title={s.userAgent ?? undefined}>
                      {s.userAgent ?? 'no user agent'}
                    </div>
                  </td>
                  <td className="small nums">{formatAgo(s.createdAt, now)}</td>
                  <td className="small nums">{formatAgo(s.lastSeenAt, now)}</td>
                  <td className="actions">
                    {!s.current && (
                      <button
                        type="button"
                        disabled={busy !== null}
                        onClick={() =>
                          void run(s.id, async () => {
                            await api.revokeSession(s.id)
                            await loadSessions()
                          })
                        }
                        aria-label={`Sign out ${s.user.name} (${s.address ?? 'unknown address'})`}
                        data-testid="session-revoke"
                      >
                        Sign out
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </section>
  )
}
