import { createBrowserRouter, Navigate, type RouteObject } from 'react-router'
import { Loading } from './components/States.js'
import { Shell } from './Shell.js'
import { SignIn } from './pages/SignIn.js'
import { useStore } from './store/index.js'
import { loadModels } from './store/loaders.js'
import { selectIsAdmin } from './store/selectors.js'

/** Signed in: the shell; signed out: the sign-in page at whatever address was asked for. */
function Root() {
  const status = useStore((s) => s.session.status)
  if (status === 'checking') return <Loading label="Checking your session…" />
  if (status === 'signed-out') return <SignIn />
  return <Shell />
}

/** `/`: the first-run screen while there are no models (for an admin), else the models. */
function Home() {
  const status = useStore((s) => s.modelsStatus)
  const empty = useStore((s) => Object.keys(s.models).length === 0)
  const isAdmin = useStore(selectIsAdmin)
  if (status === 'loading') return <Loading />
  return <Navigate to={empty && isAdmin ? '/first-run' : '/models'} replace />
}

function NotFound() {
  return (
    <div className="state state-empty" data-testid="not-found">
      <p className="state-title">No such page</p>
      <p className="state-body">
        <a href="/">Go to the start</a>
      </p>
    </div>
  )
}

/** A loader starts the screen's requests and returns at once: the view shows their loading state from the store. */
export const starts =
  (...fns: Array<() => Promise<void>>) =>
  () => {
    for (const fn of fns) void fn()
    return null
  }

/**
 * Routes split by screen (lazy), so the first screen loads only its own code. Each `pages/<screen>/index.tsx` exports
 * `Component` and, where the screen loads data, a `loader` made with `starts`.
 */
export const routes: RouteObject[] = [
  {
    path: '/',
    element: <Root />,
    hydrateFallbackElement: <Loading />,
    children: [
      { index: true, element: <Home />, loader: starts(loadModels) },
      { path: 'first-run', lazy: () => import('./pages/firstrun/index.js') },
      { path: 'models/*', lazy: () => import('./pages/models/index.js') },
      { path: 'chat/:id?', lazy: () => import('./pages/chat/index.js') },
      { path: 'gpus', lazy: () => import('./pages/gpus/index.js') },
      { path: 'usage', lazy: () => import('./pages/usage/index.js') },
      { path: 'keys/*', lazy: () => import('./pages/keys/index.js') },
      { path: 'settings', lazy: () => import('./pages/settings/index.js') },
      { path: '*', element: <NotFound /> },
    ],
  },
]

export const createRouter = () => createBrowserRouter(routes)
