import { NavLink, Outlet } from 'react-router'
import { useStore } from './store/index.js'
import { submitSignOut } from './store/session.js'
import type { Connection } from './store/slices.js'

const CONNECTION: Record<Connection, { label: string; title: string }> = {
  idle: { label: 'Offline', title: 'Live updates are off' },
  connecting: { label: 'Connecting…', title: 'Opening the live updates stream' },
  open: { label: 'Live', title: 'States and GPU readings update as they change' },
  reconnecting: { label: 'Reconnecting…', title: 'The live stream dropped; retrying with backoff. What you see may be old.' },
}

function ConnectionIndicator() {
  const connection = useStore((s) => s.connection)
  const { label, title } = CONNECTION[connection]
  return (
    <span className={`connection connection-${connection}`} title={title} data-testid="connection" aria-live="polite">
      <span className="dot" aria-hidden="true" />
      {label}
    </span>
  )
}

/** Which entries the left nav shows: First run replaces Models while there are none; members see what they may use. */
export function navItems(isAdmin: boolean, noModels: boolean): Array<{ to: string; label: string }> {
  const items = [
    noModels && isAdmin ? { to: '/first-run', label: 'First run' } : { to: '/models', label: 'Models' },
    { to: '/chat', label: 'Chat' },
  ]
  if (isAdmin) items.push({ to: '/gpus', label: 'GPUs' })
  items.push({ to: '/usage', label: 'Usage' }, { to: '/keys', label: 'Keys' })
  if (isAdmin) items.push({ to: '/settings', label: 'Settings' })
  return items
}

export function Shell() {
  const session = useStore((s) => s.session)
  const noModels = useStore((s) => s.modelsStatus === 'ready' && Object.keys(s.models).length === 0)
  if (session.status !== 'signed-in') return null
  const { user } = session
  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Cortex
        </span>
        <ConnectionIndicator />
        <span className="spacer" />
        <span className="user" data-testid="user">
          {user.name}
          <span className="role">{user.role}</span>
        </span>
        <button type="button" className="quiet" onClick={() => void submitSignOut()} data-testid="sign-out">
          Sign out
        </button>
      </header>
      <nav className="sidenav" aria-label="Main">
        {navItems(user.role === 'admin', noModels).map((item) => (
          <NavLink key={item.to} to={item.to} data-testid={`nav-${item.to.slice(1)}`}>
            {item.label}
          </NavLink>
        ))}
      </nav>
      <main className="content">
        <Outlet />
      </main>
    </div>
  )
}
