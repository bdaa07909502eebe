import type { ApiKeyView } from '../../../../gateway/contract/index.js'
import * as api from '../../api.js'
import { ConfirmButton } from '../../components/Confirm.js'
import { Empty } from '../../components/States.js'
import { useAction } from '../../components/useAction.js'
import { useStore } from '../../store/index.js'
import { loadKeys } from '../../store/loaders.js'
import { formatCount } from '../../units.js'
import { GridTable, Listing } from './Listing.js'

function limits(k: ApiKeyView): string[] {
  const parts = [
    k.limits.rpm !== null && `${formatCount(k.limits.rpm)} req/min`,
    k.limits.tpm !== null && `${formatCount(k.limits.tpm)} tok/min`,
    k.limits.dailyTokens !== null && `${formatCount(k.limits.dailyTokens)} tok/day`,
    k.limits.concurrency !== null && `${k.limits.concurrency} at once`,
  ].filter((p): p is string => typeof p === 'string')
  return parts.length > 0 ? parts : ['no limits']
}

const day = (iso: string) => new Date(iso).toLocaleDateString(undefined, { dateStyle: 'medium' })

function KeyRow({ k }: { k: ApiKeyView }) {
  const { busy, error, run } = useAction()
  return (
    <>
      <tr data-testid={`key-${k.name}`} data-state={k.state}>
        <td>
          <strong className="key-name">{k.name}</strong>{' '}
          <span className={`badge badge-${k.state === 'active' ? 'running' : k.state}`}>{k.state}</span>
          <div className="mono small muted">{k.prefix}</div>
          <div className="small">
            {k.org ?? 'no organization'}
            {k.user && `, ${k.user}`}
          </div>
          <div className="small muted nums">
            made {day(k.createdAt)}, {k.expiresAt === null ? 'never expires' : `expires ${day(k.expiresAt)}`}
          </div>
        </td>
        <td className="small">
          <div>{k.models === null ? 'every model' : k.models.join(', ')}</div>
          <div className="muted">{k.scopes.join(', ')}</div>
          <div className="mono">{k.ips === null ? 'from anywhere' : k.ips.join(', ')}</div>
          {k.tags.map((t) => (
            <span key={t} className="tag">
              {t}
            </span>
          ))}
        </td>
        <td className="small nums limits">
          {limits(k).map((l) => (
            <div key={l}>{l}</div>
          ))}
        </td>
        <td className="actions">
          {k.state === 'active' && (
            <ConfirmButton
              label="Revoke"
              question={`Revoke ${k.name}? Requests with it are refused from now on.`}
              confirmLabel="Revoke"
              disabled={busy !== null}
              onConfirm={() =>
                void run('revoke', async () => {
                  await api.revokeKey(k.id)
                  await loadKeys()
                })
              }
              testId="revoke"
            />
          )}
        </td>
      </tr>
      {error && (
        <tr>
          <td colSpan={4}>
            <p className="form-error" role="alert">
              {error}
            </p>
          </td>
        </tr>
      )}
    </>
  )
}

/** Every key the caller may see (a member: their own), reloaded after each change. */
export function KeyList() {
  const keys = useStore((s) => s.keys)
  return (
    <Listing
      remote={keys}
      feature="Keys"
      retry={() => void loadKeys()}
      empty={<Empty title="No keys yet — create one to point your tools at /v1" />}
    >
      {(list) => (
        <GridTable testId="keys-table" columns={['Key, state, owner', 'Models, uses, addresses', 'Limits']} actions>
          {list.map((k) => (
            <KeyRow key={k.id} k={k} />
          ))}
        </GridTable>
      )}
    </Listing>
  )
}
