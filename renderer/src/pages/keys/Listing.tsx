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
