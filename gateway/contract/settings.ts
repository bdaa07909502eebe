import Type, { type Static } from 'typebox'

/** A secret as the admin API shows it: whether one is set, never its value. */
export const SecretView = Type.Object({ set: Type.Boolean() })
export type SecretView = Static<typeof SecretView>

/** `GET /admin/api/settings`: Cortex-wide settings, secrets write-only. */
export const SettingsView = Type.Object({
  /** The Hugging Face token vLLM containers get as HF_TOKEN (gated and private repos). */
  hfToken: SecretView,
  /** The host folder mounted as the Hugging Face cache into vLLM containers; null = `~/.cache/huggingface`.
   *  Read when Cortex starts: a change applies from the next start (running containers are then replaced). */
  hfCache: Type.Union([Type.String(), Type.Null()]),
})
export type SettingsView = Static<typeof SettingsView>

/**
 * `PUT /admin/api/settings`: the fields to change; a field left out keeps its value (a secret cannot be read back,
 * so a client could not send it again), `null` clears one. The token's content is checked by the service, so that
 * no error message repeats it.
 */
export const SettingsPutBody = Type.Object(
  {
    hfToken: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    hfCache: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
  },
  { additionalProperties: false },
)
export type SettingsPutBody = Static<typeof SettingsPutBody>
