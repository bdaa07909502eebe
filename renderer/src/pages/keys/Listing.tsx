import type { ReactNode } from 'react'
import { ErrorState, Loading, NeedsNewerGateway } from '../../components/States.js'
import { dataOf, type Remote } from '../../store/remote.js'

/** A remote list's loading, error (or older gateway) and empty states; `children` draws it once it has items. */
export function Listing<T>({
  remote,
  feature,
  retry,
  empty,
  children,
}: {
  remote: Remote<T[]>
  feature: string
  retry: () => void
  empty: ReactNode
  children: (items: T[]) => ReactNode
}) {
  const items = dataOf(remote)
  if (remote.status === 'error' && remote.missing) return <NeedsNewerGateway feature={feature} />
  if (items === null) {
    if (remote.status === 'error')
      return <ErrorState title={`Could not load ${feature.toLowerCase()}`} message={remote.error} onRetry={retry} />
    return <Loading label={`Loading ${feature.toLowerCase()}…`} />
  }
  return items.length === 0 ? empty : children(items)
}

/** A listing's scrolling grid table: one header row of `columns` (a column of actions gets a hidden heading), then `children` as its rows. */
export function GridTable({
  testId,
  columns,
  actions = false,
  children,
}: {
  testId: string
  columns: string[]
  actions?: boolean
  children: ReactNode
}) {
  return (
    <div className="table-scroll">
      <table className="grid" data-testid={testId}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
            {actions && (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  )
}
