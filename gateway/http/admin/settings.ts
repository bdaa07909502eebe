import { SettingsPutBody, SettingsView } from '../../contract/index.js'
import type { SettingsService } from '../../services/settings.js'
import type { AdminApp } from './index.js'

// The response schema is a second guard for secrets: a field it does not name is never serialized.
const response = { 200: SettingsView }

/** `/settings`: Cortex-wide settings; secrets are write-only. */
export function settingsRoutes(app: AdminApp, settings: SettingsService): void {
  app.get('/settings', { schema: { response } }, () => settings.get())
  app.put('/settings', { schema: { body: SettingsPutBody, response } }, (req) => {
    const view = settings.update(req.body)
    // Which settings changed, never their values.
    req.log.info({ changed: Object.keys(req.body) }, 'settings updated')
    return view
  })
}
