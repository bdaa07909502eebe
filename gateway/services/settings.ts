import { isAbsolute } from 'node:path'
import { CortexError, type SettingsPutBody, type SettingsView } from '../contract/index.js'
import type { SettingsRepo } from '../store/types.js'

/** Cortex-wide settings. Secrets are write-only: nothing here returns their values. */
export interface SettingsService {
  get(): SettingsView
  /** Changes the fields present (`null` clears one) and returns what `get()` now shows; a value that breaks a rule
   *  throws `invalid_request` with `param` at the field, and a message that never repeats a secret. */
  update(body: SettingsPutBody): SettingsView
}

const KEYS = { hfToken: 'hf_token', hfCache: 'hf_cache' } as const

/** What the core needs besides the admin API's view: the values themselves, for the Docker runtime. */
export interface Settings extends SettingsService {
  /** The Docker runtime's `secretEnv`: HF_TOKEN when one is set, read at each container create. */
  secretEnv(): Record<string, string>
  /** The Docker runtime's `hfCache`, or null for its default. */
  hfCache(): string | null
}

/** An HF token is one printable word (`hf_…`); anything else would break the container's environment. */
const TOKEN = /^[\x21-\x7e]+$/

/** Settings kept in the store's `settings` table. The token is stored as given (the data directory is 0700). */
export function createSettings(repo: SettingsRepo): Settings {
  const view = (): SettingsView => ({
    hfToken: { set: repo.get(KEYS.hfToken) !== null },
    hfCache: repo.get(KEYS.hfCache),
  })
  return {
    get: view,
    update(body) {
      // Every field is checked before any is written: a refused request changes nothing.
      if (typeof body.hfToken === 'string' && !TOKEN.test(body.hfToken)) {
        throw new CortexError(
          'invalid_request',
          'hfToken: expected the token alone (printable characters, no spaces or line breaks); null removes it',
          { param: 'hfToken' },
        )
      }
      if (typeof body.hfCache === 'string' && !isAbsolute(body.hfCache)) {
        throw new CortexError('invalid_request', `hfCache: expected an absolute path (got "${body.hfCache}")`, {
          param: 'hfCache',
        })
      }
      for (const field of ['hfToken', 'hfCache'] as const) {
        const value = body[field]
        if (value === null) repo.delete(KEYS[field])
        else if (value !== undefined) repo.set(KEYS[field], value)
      }
      return view()
    },
    secretEnv(): Record<string, string> {
      const token = repo.get(KEYS.hfToken)
      return token === null ? {} : { HF_TOKEN: token }
    },
    hfCache: () => repo.get(KEYS.hfCache),
  }
}
