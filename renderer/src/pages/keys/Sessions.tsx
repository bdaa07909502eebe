import * as api from '../../api.js'
import { Empty } from '../../components/States.js'
import { useAction } from '../../components/useAction.js'
import { useNow } from '../../components/useNow.js'
import { useStore } from '../../store/index.js'
import { loadSessions } from '../../store/loaders.js'
import { formatAgo } from '../../units.js'
import { GridTable, Listing } from './Listing.js'

/** Who is signed in to the console, from where; signing one out ends that browser's session at once. */
export function Sessions() {
  const sessions = useStore((s) => s.sessions)
  const now = useNow(30_000)
  const { busy, error, run } = useAction()
  // The clock ticks every 30 s, so a figure in seconds would be wrong most of the time.
  const ago = (at: number) => (now - at < 60_000 ? 'just now' : formatAgo(at, now))
  return (
    <section className="panel" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Signed-in sessions</h2>
      <Listing
        remote={sessions}
        feature="Sessions"
        retry={() => void loadSessions()}
        empty={<Empty title="No one is signed in with a session">The admin token and API keys sign no session.</Empty>}
      >
        {(list) => (
          <GridTable testId="sessions" columns={['User', 'From', 'When']} actions>
            {list.map((s) => (
              <tr key={s.id} data-testid={`session-${s.user.name}${s.current ? '-current' : ''}`}>
                <td>
                  {s.user.name} <span className="muted small">{s.user.role}</span>
                  {s.current && <span className="tag">this browser</span>}
                </td>
                <td className="small">
                  {s.address ?? 'unknown address'}
                  <div className="muted user-agent" title={s.userAgent ?? undefined}>
                    {s.userAgent ?? 'no user agent'}
                  </div>
                </td>
                <td className="small nums when">
                  <div>signed in {ago(s.createdAt)}</div>
                  <div className="muted">seen {ago(s.lastSeenAt)}</div>
                </td>
                <td className="actions">
                  {!s.current && (
                    <button
                      type="button"
                      disabled={busy !== null}
                      onClick={() =>
                        void run(s.id, async () => {
                          await api.revokeSession(s.id)
                          await loadSessions()
                        })
                      }
                      aria-label={`Sign out ${s.user.name} (${s.address ?? 'unknown address'})`}
                      data-testid="session-revoke"
                    >
                      Sign out
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </GridTable>
        )}
      </Listing>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </section>
  )
}
