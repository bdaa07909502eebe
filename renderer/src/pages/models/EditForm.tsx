import { useState, type FormEvent } from 'react'
import type { ModelView } from '../../../../gateway/contract/index.js'
import { useAction } from '../../components/useAction.js'
import { patchModel } from './actions.js'
import { formatArgs, formatGpus, parseArgs, parseGpus, parseList } from './fields.js'

/** The fields people change most; a model from the config file is changed there, and the form says so. */
export function EditForm({ model, onDone }: { model: ModelView; onDone: () => void }) {
  const { busy, error, run } = useAction()
  const [form, setForm] = useState({
    aliases: model.aliases.join(', '),
    args: formatArgs(model.args),
    source: model.source ?? '',
    gpus: formatGpus(model.gpus),
    replicas: String(model.replicas),
    ttl: model.ttlMs > 0 ? `${Math.round(model.ttlMs / 1000)}s` : '0',
    maxConcurrent: model.maxConcurrent === undefined ? '' : String(model.maxConcurrent),
  })
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value })

  if (model.origin === 'config') {
    return (
      <p className="notice" data-testid="edit-readonly">
        {model.name} is declared in the config file (cortex.yaml): change it there, and restart Cortex to apply it.
      </p>
    )
  }
  const submit = (e: FormEvent) => {
    e.preventDefault()
    void run('save', async () => {
      await patchModel(model.id, {
        aliases: parseList(form.aliases),
        args: parseArgs(form.args),
        gpus: parseGpus(form.gpus),
        ...(model.runtime !== 'remote' && form.source.trim() !== '' && { source: form.source.trim() }),
        replicas: Number(form.replicas),
        ttl: form.ttl.trim() === '' ? '0' : form.ttl.trim(),
        maxConcurrent: form.maxConcurrent.trim() === '' ? null : Number(form.maxConcurrent),
      }).then(onDone)
    })
  }
  return (
    <form className="panel edit-form" onSubmit={submit} aria-labelledby="edit-title" data-testid="edit-form">
      <h2 id="edit-title">Edit</h2>
      <p className="muted small">A change of flags or source restarts the model&apos;s engines; ttl and pinning apply at once.</p>
      <div className="form-row">
        <label className="field">
          <span>Aliases</span>
          <input value={form.aliases} onChange={set('aliases')} placeholder="qwen, chat" />
        </label>
        <label className="field">
          <span>Replicas</span>
          <input type="number" min={1} max={64} value={form.replicas} onChange={set('replicas')} />
        </label>
        <label className="field">
          <span>Stop when idle after</span>
          <input value={form.ttl} onChange={set('ttl')} placeholder="30m (0 = never)" />
        </label>
        <label className="field">
          <span>Requests at once per replica</span>
          <input type="number" min={1} value={form.maxConcurrent} onChange={set('maxConcurrent')} placeholder="no cap" />
        </label>
      </div>
      {model.runtime !== 'remote' && (
        <label className="field">
          <span>Source</span>
          <input value={form.source} onChange={set('source')} className="mono" data-testid="edit-source" />
        </label>
      )}
      <label className="field">
        <span>GPUs</span>
        <input value={form.gpus} onChange={set('gpus')} placeholder="all, none, or 0,1" />
      </label>
      <label className="field">
        <span>Engine flags</span>
        <input value={form.args} onChange={set('args')} placeholder="-c 8192 -np 4" className="mono" data-testid="edit-args" />
      </label>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="primary" disabled={busy !== null} data-testid="edit-save">
          {busy ? 'Saving…' : 'Save'}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  )
}
