import { useState, type FormEvent } from 'react'
import { Link, useNavigate } from 'react-router'
import type { GgufInspectView, ModelCreateBody } from '../../../../gateway/contract/index.js'
import * as api from '../../api.js'
import { useAction } from '../../components/useAction.js'
import { useStore } from '../../store/index.js'
import { formatBytes, formatCount, formatParameters } from '../../units.js'
import { DryRunPanel } from '../models/DryRunPanel.js'
import { useDryRun } from '../models/useDryRun.js'

/** A model name from a GGUF file name: "Qwen2.5-7B-Instruct-Q4_K_M.gguf" → "qwen2.5-7b-instruct-q4_k_m". */
const nameFrom = (file: string) =>
  (file.split('/').pop() ?? 'model')
    .replace(/\.gguf$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9._:-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')

/** Add a model from a GGUF file on this machine: read its header first, see the dry-run, then add it. */
export function AddModel({ docker, llamaServer }: { docker: boolean; llamaServer: boolean }) {
  const [path, setPath] = useState('')
  const [inspected, setInspected] = useState<GgufInspectView | null>(null)
  const [inspectError, setInspectError] = useState<string | null>(null)
  const [name, setName] = useState('')
  const [runtime, setRuntime] = useState<'process' | 'docker'>(llamaServer || !docker ? 'process' : 'docker')
  const [context, setContext] = useState('4096')
  const inspect = useAction()
  const add = useAction()
  const navigate = useNavigate()

  const body = (): ModelCreateBody => ({
    name: name.trim(),
    engine: 'llamacpp',
    runtime,
    source: inspected?.path ?? path.trim(),
    ...(context.trim() !== '' && { args: ['-c', context.trim()] }),
  })

  const dry = useDryRun(inspected === null || name.trim() === '' ? null : body())

  const read = (e: FormEvent) => {
    e.preventDefault()
    setInspectError(null)
    void inspect.run('inspect', async () => {
      try {
        const view = await api.inspectGguf(path.trim())
        setInspected(view)
        setName(nameFrom(view.path))
        if (view.contextLength !== null) setContext(String(Math.min(view.contextLength, 8192)))
      } catch (err) {
        setInspected(null)
        setInspectError(err instanceof Error ? err.message : String(err))
      }
    })
  }
  const create = (e: FormEvent) => {
    e.preventDefault()
    void add.run('add', async () => {
      const view = await api.createModel(body())
      useStore.setState((s) => ({ models: { ...s.models, [view.id]: view } }))
      await navigate('/models')
    })
  }

  return (
    <section className="panel" id="add-model" aria-labelledby="add-title">
      <h2 id="add-title">Add your first model</h2>
      <p className="muted">
        From a GGUF file already on this machine, or from a shipped recipe:{' '}
        <Link to="/models/new" data-testid="from-recipe">
          add from a recipe
        </Link>
        .
      </p>
      <form className="form-row" onSubmit={read}>
        <label className="field path-field">
          <span>GGUF file</span>
          <input
            value={path}
            onChange={(e) => {
              // What was read belongs to the old path: adding must not take that file under the new one.
              setPath(e.target.value)
              setInspected(null)
              setInspectError(null)
            }}
            placeholder="/home/you/models/qwen2.5-7b-instruct-q4_k_m.gguf"
            required
            className="mono"
            data-testid="gguf-path"
          />
        </label>
        <button type="submit" disabled={inspect.busy !== null} data-testid="gguf-inspect">
          {inspect.busy ? 'Reading…' : 'Read the file'}
        </button>
      </form>
      {inspectError && (
        <p className="form-error" role="alert" data-testid="gguf-error">
          {inspectError}
        </p>
      )}
      {inspected && (
        <>
          <dl className="facts" data-testid="gguf-facts">
            <div>
              <dt>Architecture</dt>
              <dd data-testid="gguf-architecture">{inspected.architecture}</dd>
            </div>
            <div>
              <dt>Parameters</dt>
              <dd>{formatParameters(inspected.parameters)}</dd>
            </div>
            <div>
              <dt>Quantization</dt>
              <dd>{inspected.quantization ?? '—'}</dd>
            </div>
            <div>
              <dt>Trained context</dt>
              <dd data-testid="gguf-context">
                {inspected.contextLength === null ? '—' : `${formatCount(inspected.contextLength)} tokens`}
              </dd>
            </div>
            <div>
              <dt>File size</dt>
              <dd>{formatBytes(inspected.sizeBytes)}</dd>
            </div>
            <div>
              <dt>GPU memory (default settings)</dt>
              <dd data-testid="gguf-estimate">
                {inspected.gpuEstimate === null
                  ? '—'
                  : `${formatBytes(inspected.gpuEstimate.totalBytes)} for ${formatCount(inspected.gpuEstimate.contextTokens)} tokens in ${inspected.gpuEstimate.slots} slots`}
              </dd>
            </div>
          </dl>
          <form onSubmit={create}>
            <div className="form-row">
              <label className="field">
                <span>Name clients will use</span>
                <input value={name} onChange={(e) => setName(e.target.value)} required data-testid="model-name" />
              </label>
              <label className="field">
                <span>Runs as</span>
                <select
                  value={runtime}
                  onChange={(e) => setRuntime(e.target.value as 'process' | 'docker')}
                  data-testid="model-runtime"
                >
                  <option value="process">llama-server on this machine{llamaServer ? '' : ' (not found)'}</option>
                  <option value="docker">a Docker container{docker ? '' : ' (Docker is down)'}</option>
                </select>
              </label>
              <label className="field">
                <span>Context (tokens)</span>
                <input
                  type="number"
                  min={0}
                  value={context}
                  onChange={(e) => setContext(e.target.value)}
                  data-testid="model-context"
                />
              </label>
            </div>
            <DryRunPanel view={dry.view} error={dry.error} busy={dry.busy} />
            {add.error && (
              <p className="form-error" role="alert">
                {add.error}
              </p>
            )}
            <button type="submit" className="primary" disabled={add.busy !== null} data-testid="model-add">
              {add.busy ? 'Adding…' : 'Add model'}
            </button>
          </form>
        </>
      )}
    </section>
  )
}
