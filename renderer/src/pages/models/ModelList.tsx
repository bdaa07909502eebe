import { Link } from 'react-router'
import { Empty, ErrorState, Loading } from '../../components/States.js'
import { useStore } from '../../store/index.js'
import { loadModels } from '../../store/loaders.js'
import { isFullModel, selectIsAdmin, selectModelIds } from '../../store/selectors.js'
import { useShallow } from 'zustand/react/shallow'
import { ModelRow } from './ModelRow.js'
import { Images } from './Images.js'
import { Pulls } from './Pulls.js'

/** Every model with its live state; admins get the actions and the ways to add one. */
export function ModelList() {
  const status = useStore((s) => s.modelsStatus)
  const error = useStore((s) => s.modelsError)
  const ids = useStore(useShallow(selectModelIds))
  const models = useStore((s) => s.models)
  const admin = useStore(selectIsAdmin)

  return (
    <section aria-labelledby="models-title">
      <div className="page-head">
        <h1 id="models-title">Models</h1>
        {admin && (
          <span className="page-actions">
            <Link className="button" to="/first-run#add-model">
              Add from a GGUF file
            </Link>
            <Link className="button primary" to="/models/new" data-testid="new-from-recipe">
              Add from a recipe
            </Link>
          </span>
        )}
      </div>
      {admin && <Pulls />}
      {status === 'loading' ? (
        <Loading label="Loading models…" />
      ) : status === 'error' && ids.length === 0 ? (
        <ErrorState title="Could not load the models" message={error ?? ''} onRetry={() => void loadModels()} />
      ) : ids.length === 0 ? (
        <Empty title="No models yet">
          {admin ? (
            <p>
              <Link to="/first-run#add-model">Add a GGUF file from this machine</Link> or{' '}
              <Link to="/models/new">start from a recipe</Link>.
            </p>
          ) : (
            <p>An admin has not added any models yet.</p>
          )}
        </Empty>
      ) : (
        <div className="table-scroll">
          <table className="grid models-table" data-testid="models-table">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">State</th>
                <th scope="col" className="col-narrow-hidden">
                  Replicas
                </th>
                <th scope="col" className="col-narrow-hidden">
                  Engine
                </th>
                {admin && (
                  <>
                    <th scope="col" className="num col-narrow-hidden">
                      GPUs
                    </th>
                    <th scope="col" className="num">
                      GPU memory
                    </th>
                  </>
                )}
                <th scope="col" className="num">
                  Context
                </th>
                <th scope="col" className="num">
                  Last used
                </th>
                {admin && (
                  <th scope="col" className="num">
                    <span className="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {ids.map((id) => {
                const model = models[id]!
                return <ModelRow key={id} model={model} admin={admin} />
              })}
            </tbody>
          </table>
        </div>
      )}
      {admin &&
        ids
          .map((id) => models[id]!)
          .filter((m) => isFullModel(m) && m.status.state === 'failed' && m.status.diagnosis !== null)
          .map((m) => (
            <p key={m.id} className="form-error" data-testid={`failed-${m.name}`}>
              <strong>{m.name}</strong> failed to start: {isFullModel(m) ? m.status.diagnosis?.message : ''}{' '}
              <Link to={`/models/${encodeURIComponent(m.id)}`}>Details and log</Link>
            </p>
          ))}
      {admin && <Images />}
    </section>
  )
}
