import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { RouterProvider } from 'react-router'
import './styles/base.css'
import './styles/app.css'
import { createRouter } from './routes.js'
import { startEvents, stopEvents } from './store/events.js'
import { onSignedIn, onSignedOut, restoreSession } from './store/session.js'

const root = document.getElementById('root')
if (!root) throw new Error('index.html has no #root element')

const router = createRouter()
// After a sign-in: one events stream for the app, and the current screen's loaders run again with the session.
onSignedIn(() => {
  startEvents()
  void router.revalidate()
})
onSignedOut(stopEvents)

createRoot(root).render(
  <StrictMode>
    <RouterProvider router={router} />
  </StrictMode>,
)
void restoreSession()
