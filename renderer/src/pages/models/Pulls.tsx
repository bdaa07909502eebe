import { useStore } from '../../store/index.js'
import { formatBytes } from '../../units.js'
import { dismissPull } from './actions.js'

// A pull ends with Docker's "Status: Downloaded newer image for …" (or "… is up to date"), or Cortex's "failed: <why>".
const FINISHED = /^Status: /
const FAILED = /^failed: /

/** Image pulls under way (one bar per layer and one for the whole image), and failed ones with Docker's reason. */
export function Pulls() {
  const pulls = useStore((s) => s.pulls)
  const list = Object.values(pulls).filter((p) => !FINISHED.test(p.status))
  if (list.length === 0) return null
  return (
    <section className="panel pulls" aria-label="Image pulls">
      {list.map((pull) => {
        const layers = Object.entries(pull.layers)
        const known = layers.filter(([, l]) => l.total !== null && l.current !== null)
        const total = known.reduce((sum, [, l]) => sum + l.total!, 0)
        const done = known.reduce((sum, [, l]) => sum + Math.min(l.current!, l.total!), 0)
        if (FAILED.test(pull.status)) {
          return (
            <div key={pull.image} className="pull" data-testid="pull">
              <p className="form-error" role="alert">
                Could not pull <code>{pull.image}</code>: {pull.status.replace(FAILED, '')}
              </p>
              <button type="button" onClick={() => dismissPull(pull.image)}>
                Dismiss
              </button>
            </div>
          )
        }
        return (
          <div key={pull.image} className="pull" data-testid="pull">
            <p>
              Pulling <code>{pull.image}</code> — {pull.status}
              {total > 0 && (
                <span className="muted">
                  {' '}
                  · {formatBytes(done)} of {formatBytes(total)}
                </span>
              )}
            </p>
            {total > 0 && <progress max={total} value={done} aria-label={`${pull.image} total`} />}
            <ul className="pull-layers">
              {layers.map(([id, l]) => (
                <li key={id}>
                  <code>{id.slice(0, 12)}</code> <span className="muted">{l.status}</span>
                  {l.total !== null && l.current !== null && (
                    <progress max={l.total} value={Math.min(l.current, l.total)} aria-label={`layer ${id.slice(0, 12)}`} />
                  )}
                </li>
              ))}
            </ul>
          </div>
        )
      })}
    </section>
  )
}
