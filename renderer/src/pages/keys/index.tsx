import { NavLink, Route, Routes } from 'react-router'
import { useStore } from '../../store/index.js'
import { loadKeys, loadModels, loadOrgs, loadSessions, loadUsers } from '../../store/loaders.js'
import { selectIsAdmin } from '../../store/selectors.js'
import { KeyForm } from './KeyForm.js'
import { KeyList } from './KeyList.js'
import { People } from './People.js'
import './keys.css'

/** Members see only their own keys (the gateway scopes it); the rest is for admins, whose requests would be 403. */
export const loader = () => {
  void loadKeys()
  void loadModels()
  if (useStore.getState().session.status === 'signed-in' && selectIsAdmin(useStore.getState())) {
    void loadOrgs()
    void loadUsers()
    void loadSessions()
  }
  return null
}

/** `/keys` (API keys) and, for admins, `/keys/people` (organizations, users, sessions). */
export function Component() {
  const admin = useStore(selectIsAdmin)
  return (
    <section className="keys-page" aria-labelledby="keys-title">
      <div className="page-head">
        <h1 id="keys-title">{admin ? 'Keys and people' : 'Your API keys'}</h1>
      </div>
      {admin && (
        <nav className="segmented" aria-label="Keys and people">
          <NavLink to="/keys" end className={({ isActive }) => (isActive ? 'active' : '')}>
            API keys
          </NavLink>
          <NavLink to="/keys/people" className={({ isActive }) => (isActive ? 'active' : '')} data-testid="tab-people">
            Organizations, users, sessions
          </NavLink>
        </nav>
      )}
      <Routes>
        <Route
          index
          element={
            <>
              <KeyForm admin={admin} />
              <KeyList />
            </>
          }
        />
        {admin && <Route path="people" element={<People />} />}
      </Routes>
    </section>
  )
}
