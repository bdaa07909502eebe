import type {
  AdminEvent,
  DockerStatus,
  DryRunView,
  ImageView,
  ModelCreateBody,
  ModelPatchBody,
  ModelView,
  RecipeView,
  SettingsPutBody,
  SettingsView,
  SystemSample,
  SystemSnapshot,
} from '../contract/index.js'

/**
 * What the admin API needs to manage models. Every method that names a model takes its opaque `id` and throws
 * CortexError `not_found` for an unknown one; edits of a model declared in the config file throw
 * `model_managed_by_config` (409); a body that breaks a rule throws `invalid_request` with `param` at the field.
 */
export interface ModelService {
  list(): ModelView[]
  get(id: string): ModelView
  create(body: ModelCreateBody): Promise<ModelView>
  update(id: string, patch: ModelPatchBody): Promise<ModelView>
  /** Stops the model's engines, then forgets it (its usage rows stay). */
  remove(id: string): Promise<void>
  /** Explicit start (forgives earlier failures). `wait`: resolve once running, reject `model_start_failed`;
   *  else resolve at once with the model `starting`. */
  start(id: string, opts: { wait: boolean }): Promise<ModelView>
  stop(id: string): Promise<ModelView>
  setPinned(id: string, pinned: boolean): Promise<ModelView>
  /** What a start would do (plan, estimate, evictions, warnings), starting nothing. */
  dryRun(id: string): Promise<DryRunView>
  /** The last lines of the engines' output (all replicas). */
  logs(id: string): string[]
  /** Every new line from now on; returns the unsubscribe function. */
  followLogs(id: string, onLine: (line: string) => void): () => void
  /** State changes, model edits, Docker status; returns the unsubscribe function. A snapshot is `snapshot()`. */
  subscribe(fn: (e: AdminEvent) => void): () => void
  snapshot(): Extract<AdminEvent, { type: 'snapshot' }>
}

/** Images on the Docker daemon. Methods throw CortexError `docker_unavailable` when the daemon does not answer. */
export interface ImageService {
  status(): DockerStatus
  list(): Promise<ImageView[]>
  /** `docker load` of a tar on this machine; resolves with the `repo:tag` names (or ids) it loaded.
   *  A missing or unreadable file, or a tar Docker refuses, is `invalid_request` with param `path`. */
  load(path: string): Promise<string[]>
  /** Pulls with per-layer progress on the events stream; resolves when done. */
  pull(image: string): Promise<void>
}

/** Cortex-wide settings. Secrets are write-only: nothing here returns their values. */
export interface SettingsService {
  get(): SettingsView
  /** Changes the fields present (`null` clears one) and returns what `get()` now shows; a value that breaks a rule
   *  throws `invalid_request` with `param` at the field, and a message that never repeats a secret. */
  update(body: SettingsPutBody): SettingsView
}

/**
 * Model recipes: shipped with Cortex (read-only) and imported ones, saved in `<data-dir>/recipes/`. Errors are
 * CortexError `invalid_request` with `param` at the field to fix.
 */
export interface RecipeService {
  /** Shipped recipes first, then imported ones; each group by id. */
  list(): RecipeView[]
  /** The model entry a recipe gives with `overrides` applied (see `fromRecipe`). An unknown id is param `recipe`; a
   *  source that neither the recipe nor the overrides give, where the engine needs one, is `overrides.source`. */
  modelBody(recipe: string, overrides: ModelPatchBody): ModelCreateBody
  /** A model as recipe YAML: no API key, no secret-looking env values, defaults left out. */
  export(model: ModelView): string
  /** Checks recipe YAML and saves it under its `id` (an imported recipe with that id is replaced; a shipped one never
   *  is). A problem's param is its path in the YAML and the message names the line. */
  import(yaml: string): Promise<RecipeView>
}

/**
 * The GPUs and the host: hardware read once, live samples in a ring. Reading never throws for want of a GPU: no
 * nvidia-smi means no GPUs, and a failing one leaves a sample with `gpus: []` and an `error`.
 */
export interface SystemMonitor {
  /** The hardware: CPU, total memory, and the GPUs of the first reading. */
  snapshot(): Promise<SystemSnapshot>
  /** The newest sample, taken now when the last one is older than the sampling interval. */
  latest(): Promise<SystemSample>
  /** Recent samples, oldest first (only from times someone was looking). */
  history(): SystemSample[]
  /** A sample every interval while anyone is subscribed; returns the unsubscribe function. */
  subscribe(fn: (sample: SystemSample) => void): () => void
}
