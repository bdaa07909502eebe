import { useShallow } from 'zustand/react/shallow'
import { useStore } from './store.js'

function ModelRowView({ id }: { id: string }) {
  const model = useStore((s) => s.models[id])
  if (!model) return null
  return (
    <tr data-testid={`model-${id}`}>
      <td>{model.id}</td>
      <td>{model.state}</td>
      <td>{model.contextLength ?? '—'}</td>
    </tr>
  )
}

export function App() {
  const ids = useStore(useShallow((s) => Object.keys(s.models)))
  const error = useStore((s) => s.error)
  return (
    <main>
      <h1>Cortex</h1>
      {error && <p role="alert">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>Model</th>
            <th>State</th>
            <th>Context</th>
          </tr>
        </thead>
        <tbody>
          {ids.map((id) => (
            <ModelRowView key={id} id={id} />
          ))}
        </tbody>
      </table>
    </main>
  )
}
