import { useEffect } from 'react'
import { useLocation } from 'react-router'
import { Empty, ErrorState, Loading } from '../../components/States.js'
import { starts } from '../../routes.js'
import { useStore } from '../../store/index.js'
import { loadSystem } from '../../store/loaders.js'
import { dataOf } from '../../store/remote.js'
import { isFullModel, selectIsAdmin, selectModelIds } from '../../store/selectors.js'
import '../models/models.css'
import { AddModel } from './AddModel.js'
import { Checks } from './Checks.js'
import { Connect } from './Connect.js'
import './firstrun.css'

export const loader = starts(loadSystem)

/** First run: what Cortex found, how to connect a tool, and the first model. */
export function Component() {
  const system = useStore((s) => s.system)
  const admin = useStore(selectIsAdmin)
  const firstModel = useStore((s) => {
    const id = selectModelIds(s)[0]
    return id === undefined ? null : s.models[id]!.name
  })
  const full = useStore((s) => Object.values(s.models).every(isFullModel))
  const { hash } = useLocation()
  const view = dataOf(system)

  useEffect(() => {
    if (hash === '#add-model' && view) document.getElementById('add-model')?.scrollIntoView()
  }, [hash, view])

  if (!admin || !full)
    return (
      <Empty title="Only admins set Cortex up">
        <p>Ask an admin to add models. Your own API keys are under Keys.</p>
      </Empty>
    )
  if (view === undefined || view === null) {
    if (system.status === 'error')
      return <ErrorState title="Could not read this machine" message={system.error} onRetry={() => void loadSystem()} />
    return <Loading label="Looking at this machine…" />
  }
  return (
    <section aria-labelledby="firstrun-title" className="first-run">
      <h1 id="firstrun-title">Welcome to Cortex</h1>
      <p className="muted">Your own models, behind one OpenAI- and Anthropic-compatible API.</p>
      <section className="panel" aria-labelledby="found-title">
        <h2 id="found-title">What Cortex found</h2>
        <Checks system={view} />
      </section>
      <Connect model={firstModel} />
      <AddModel docker={view.cortex?.docker.available ?? false} llamaServer={view.cortex?.llamaServer.found ?? false} />
    </section>
  )
}
