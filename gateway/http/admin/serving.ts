import type { Serving } from '../../services/serving.js'
import type { AdminApp } from './index.js'

/** `/serving`, `/pause`, `/resume`: whether `/v1` serves inference. */
export function servingRoutes(app: AdminApp, serving: Serving): void {
  const view = () => ({ paused: serving.paused() })
  app.get('/serving', async () => view())
  app.post('/pause', async () => {
    serving.setPaused(true)
    return view()
  })
  app.post('/resume', async () => {
    serving.setPaused(false)
    return view()
  })
}
