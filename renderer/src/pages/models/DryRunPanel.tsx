import type { DryRunView } from '../../../../gateway/contract/index.js'
import { formatBytes } from '../../units.js'

/** What a start would do, starting nothing: the command or container, the GPU memory per card, evictions, warnings. */
export function DryRunPanel({ view, error, busy }: { view: DryRunView | null; error: string | null; busy: boolean }) {
  return (
    <section className="dry-run" aria-label="What starting it would do" aria-busy={busy} data-testid="dry-run">
      <h3>What starting it would do {busy && <span className="muted small">— checking…</span>}</h3>
      {error !== null && (
        <p className="form-error" role="alert" data-testid="dry-run-error">
          {error}
        </p>
      )}
      {view !== null && (
        <>
          {view.plan?.kind === 'process' && (
            <pre className="mono command" tabIndex={0}>
              {[view.plan.command, ...view.plan.args].join(' ')}
            </pre>
          )}
          {view.plan?.kind === 'container' && (
            <pre className="mono command" tabIndex={0}>
              docker run {view.plan.image} {view.plan.cmd.join(' ')}
            </pre>
          )}
          {view.plan?.kind === 'remote' && <p>Forwards to {view.plan.baseUrls.join(', ')}</p>}
          {view.gpus.length > 0 && (
            <table className="grid">
              <thead>
                <tr>
                  <th scope="col">GPU</th>
                  <th scope="col" className="num">
                    Needs
                  </th>
                  <th scope="col" className="num">
                    Free now
                  </th>
                </tr>
              </thead>
              <tbody>
                {view.gpus.map((g) => (
                  <tr key={g.index}>
                    <td>
                      {g.index}: {g.name}
                    </td>
                    <td className="num">{formatBytes(g.needBytes)}</td>
                    <td className="num">{formatBytes(g.freeBytes)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {view.fits === false && <p className="form-error">It does not fit in GPU memory now.</p>}
          {view.wouldEvict.length > 0 && <p>Starting it stops: {view.wouldEvict.join(', ')}</p>}
          {view.warnings.map((w) => (
            <p key={w} className="notice">
              {w}
            </p>
          ))}
        </>
      )}
    </section>
  )
}
