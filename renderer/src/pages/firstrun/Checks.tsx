import type { SystemView } from '../../api.js'
import { formatBytes } from '../../units.js'
import { Prose } from './Prose.js'

function Check({
  ok,
  title,
  children,
  testId,
}: {
  ok: boolean | null
  title: string
  children: React.ReactNode
  testId: string
}) {
  const mark = ok === null ? 'info' : ok ? 'ok' : 'missing'
  return (
    <li className={`check check-${mark}`} data-testid={testId} data-ok={String(ok)}>
      <span className="check-mark" aria-hidden="true">
        {ok === null ? 'i' : ok ? '✓' : '!'}
      </span>
      <div>
        <p className="check-title">
          {title}
          <span className="visually-hidden">{ok === null ? '' : ok ? ' (found)' : ' (missing)'}</span>
        </p>
        <div className="check-body">{children}</div>
      </div>
    </li>
  )
}

/** What Cortex found on this machine: GPUs, Docker, llama-server — each with the fix when it is missing. */
export function Checks({ system }: { system: SystemView }) {
  const { gpus } = system.snapshot
  const cortex = system.cortex
  return (
    <ul className="checks-list" aria-label="What Cortex found">
      <Check
        ok={gpus.length > 0 ? true : null}
        title={gpus.length > 0 ? `${gpus.length} NVIDIA GPU${gpus.length > 1 ? 's' : ''}` : 'No NVIDIA GPU found'}
        testId="check-gpus"
      >
        {gpus.length > 0 ? (
          <ul className="plain">
            {gpus.map((g) => (
              <li key={g.uuid}>
                {g.index}: {g.name} — {formatBytes(g.memoryTotalBytes)}
              </li>
            ))}
          </ul>
        ) : (
          <p>
            Models run on the CPU. With an NVIDIA card, install its driver so that <code>nvidia-smi</code> is on PATH.
          </p>
        )}
      </Check>
      {cortex && (
        <>
          <Check
            ok={cortex.llamaServer.found}
            title={cortex.llamaServer.found ? 'llama-server found' : 'llama-server not found'}
            testId="check-llama"
          >
            {cortex.llamaServer.found ? (
              <p>
                <code>{cortex.llamaServer.path}</code>
                {cortex.llamaServer.version && <> — {cortex.llamaServer.version}</>}
              </p>
            ) : (
              <p>
                <Prose text={cortex.llamaServer.howToGet} />
              </p>
            )}
          </Check>
          <Check
            ok={cortex.docker.available}
            title={cortex.docker.available ? 'Docker is running' : 'Docker is not available'}
            testId="check-docker"
          >
            {cortex.docker.available ? (
              <p>Models can run as containers (vLLM, llama.cpp images).</p>
            ) : (
              <>
                <p>
                  <Prose text={cortex.docker.message ?? 'Docker does not answer: start it with `sudo systemctl start docker`.'} />
                </p>
                <p>
                  Only models that run as containers need it.
                  {!cortex.docker.message?.includes('usermod') && (
                    <>
                      {' '}
                      To use it without sudo: <code>sudo usermod -aG docker $USER</code>, then log in again.
                    </>
                  )}
                </p>
              </>
            )}
          </Check>
          <Check ok={null} title={`Cortex ${cortex.version}`} testId="check-cortex">
            <p>
              Data directory: <code>{cortex.dataDir}</code>
            </p>
          </Check>
        </>
      )}
    </ul>
  )
}
