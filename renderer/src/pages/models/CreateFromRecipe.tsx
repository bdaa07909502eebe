import { useEffect, useRef, useState, type FormEvent } from 'react'
import { Link, useNavigate } from 'react-router'
import type { ModelCreateBody, RecipeView } from '../../../../gateway/contract/index.js'
import * as api from '../../api.js'
import { Empty, ErrorState, Loading } from '../../components/States.js'
import { useAction } from '../../components/useAction.js'
import { useStore } from '../../store/index.js'
import { loadRecipes } from '../../store/loaders.js'
import { dataOf } from '../../store/remote.js'
import { DryRunPanel } from './DryRunPanel.js'
import { formatArgs, formatGpus, parseArgs, parseGpus } from './fields.js'
import { useDryRun } from './useDryRun.js'

/** The fields a recipe leaves to the person: a name, the source where it has none, where it runs, on which GPUs, flags. */
interface Draft {
  name: string
  source: string
  runtime: ModelCreateBody['runtime']
  gpus: string
  args: string
}

const draftOf = (r: RecipeView): Draft => ({
  name: r.model.name,
  source: r.model.source ?? '',
  runtime: r.model.runtime,
  gpus: formatGpus(r.model.gpus),
  args: formatArgs(r.model.args ?? []),
})

const overridesOf = (r: RecipeView, d: Draft) => ({
  name: d.name.trim(),
  runtime: d.runtime,
  gpus: parseGpus(d.gpus),
  args: parseArgs(d.args),
  ...(d.source.trim() !== '' && d.source !== r.model.source && { source: d.source.trim() }),
})

/** Create a model from a recipe: its fields as a form, with the dry-run (command, estimate, evictions, warnings) live. */
export function CreateFromRecipe() {
  useEffect(() => void loadRecipes(), [])
  const recipes = useStore((s) => s.recipes)
  const list = dataOf(recipes) ?? []
  const [chosen, setChosen] = useState<RecipeView | null>(null)
  const [draft, setDraft] = useState<Draft | null>(null)
  const { busy, error, run } = useAction()
  const navigate = useNavigate()
  const nameField = useRef<HTMLInputElement>(null)
  // The form opens under the list: take the person (and the keyboard) to it when they pick a recipe.
  useEffect(() => nameField.current?.focus(), [chosen?.id])

  // The dry-run follows the form, a moment after the last keystroke.
  const dry = useDryRun(
    chosen === null || draft === null ? null : ({ ...chosen.model, ...overridesOf(chosen, draft) } as ModelCreateBody),
  )

  if (recipes.status === 'loading' && list.length === 0) return <Loading label="Loading recipes…" />
  if (recipes.status === 'error' && list.length === 0)
    return <ErrorState title="Could not load the recipes" message={recipes.error} onRetry={() => void loadRecipes()} />
  if (list.length === 0) return <Empty title="No recipes">Put recipe files in the data directory&apos;s recipes/ folder.</Empty>

  const choose = (r: RecipeView) => {
    setChosen(r)
    setDraft(draftOf(r))
  }
  const submit = (e: FormEvent) => {
    e.preventDefault()
    if (chosen === null || draft === null) return
    void run('create', async () => {
      const view = await api.createModel({ recipe: chosen.id, overrides: overridesOf(chosen, draft) })
      useStore.setState((s) => ({ models: { ...s.models, [view.id]: view } }))
      await navigate(`/models/${encodeURIComponent(view.id)}`)
    })
  }
  const set = (key: keyof Draft) => (e: { target: { value: string } }) => setDraft({ ...draft!, [key]: e.target.value })

  return (
    <section aria-labelledby="recipe-title">
      <p className="crumbs">
        <Link to="/models">Models</Link> /
      </p>
      <h1 id="recipe-title">Add a model from a recipe</h1>
      <ul className="recipe-list" aria-label="Recipes">
        {list.map((r) => (
          <li key={r.id}>
            <button
              type="button"
              className={`recipe ${chosen?.id === r.id ? 'active' : ''}`}
              aria-pressed={chosen?.id === r.id}
              onClick={() => choose(r)}
              data-testid={`recipe-${r.id}`}
            >
              <strong>{r.title}</strong>
              <span className="muted small">{r.description}</span>
              {r.requires?.vramGiB !== undefined && (
                <span className="tag">
                  {r.requires.gpus ?? 1} GPU × {r.requires.vramGiB} GiB
                </span>
              )}
            </button>
          </li>
        ))}
      </ul>
      {chosen && draft && (
        <form className="panel" onSubmit={submit} aria-labelledby="recipe-form-title">
          <h2 id="recipe-form-title">{chosen.title}: your model</h2>
          <div className="form-row">
            <label className="field">
              <span>Name</span>
              <input ref={nameField} value={draft.name} onChange={set('name')} required data-testid="recipe-name" />
            </label>
            <label className="field">
              <span>Runs as</span>
              <select value={draft.runtime} onChange={set('runtime')}>
                <option value="process">a process on this machine</option>
                <option value="docker">a Docker container</option>
              </select>
            </label>
            <label className="field">
              <span>GPUs</span>
              <input value={draft.gpus} onChange={set('gpus')} placeholder="all, none, or 0,1" />
            </label>
          </div>
          {chosen.model.source === undefined && (
            <label className="field">
              <span>Source</span>
              <input value={draft.source} onChange={set('source')} required className="mono" data-testid="recipe-source" />
              {chosen.sourceHint && <small className="muted">{chosen.sourceHint}</small>}
            </label>
          )}
          <label className="field">
            <span>Engine flags</span>
            <input
              value={draft.args}
              onChange={set('args')}
              placeholder="-c 8192 -np 4"
              className="mono"
              data-testid="recipe-args"
            />
          </label>
          <DryRunPanel view={dry.view} error={dry.error} busy={dry.busy} />
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          <div className="form-actions">
            <button type="submit" className="primary" disabled={busy !== null} data-testid="recipe-create">
              {busy ? 'Adding…' : 'Add model'}
            </button>
          </div>
        </form>
      )}
    </section>
  )
}
