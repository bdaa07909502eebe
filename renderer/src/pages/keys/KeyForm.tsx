import { useState, type FormEvent } from 'react'
import type { KeyCreateBody, Scope } from '../../../../gateway/contract/index.js'
import * as api from '../../api.js'
import { CopyButton } from '../../components/CopyButton.js'
import { useAction } from '../../components/useAction.js'
import { useStore } from '../../store/index.js'
import { loadKeys } from '../../store/loaders.js'
import { dataOf } from '../../store/remote.js'
import { selectModelIds } from '../../store/selectors.js'
import { useShallow } from 'zustand/react/shallow'

const SCOPES: Array<{ scope: Scope; label: string }> = [
  { scope: 'inference', label: 'Inference (chat, completions, …)' },
  { scope: 'embeddings', label: 'Embeddings' },
  { scope: 'admin:read', label: 'Read usage and model states' },
]
const list = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
const CIDR = /^[0-9a-fA-F:.]+(\/\d{1,3})?$/
const TAG = /^[A-Za-z0-9._:-]{1,64}$/

interface Problem {
  field: keyof Form
  message: string
}

/** What is wrong with the form and where, before anything is sent; null when it may go. */
function problem(f: Form): Problem | null {
  if (f.name.trim() === '') return { field: 'name', message: 'Give the key a name, e.g. the tool that will use it.' }
  if (f.scopes.length === 0) return { field: 'scopes', message: 'Choose at least one thing the key may do.' }
  for (const [field, label] of [
    ['rpm', 'Requests per minute'],
    ['tpm', 'Tokens per minute'],
    ['dailyTokens', 'Tokens per day'],
  ] as const) {
    const value = f[field].trim()
    if (value !== '' && !/^[1-9]\d*$/.test(value))
      return { field, message: `${label}: a whole number of at least 1, or empty for no limit.` }
  }
  const bad = list(f.ips).find((ip) => !CIDR.test(ip))
  if (bad !== undefined) return { field: 'ips', message: `"${bad}" is not an address or range such as 10.0.0.0/8.` }
  const tag = list(f.tags).find((t) => !TAG.test(t))
  if (tag !== undefined) return { field: 'tags', message: `Tag "${tag}": letters, digits and . _ : - only, up to 64 characters.` }
  if (list(f.tags).length > 32) return { field: 'tags', message: 'At most 32 tags.' }
  if (f.expires.trim() !== '' && !/^\d+(\.\d+)?(ms|s|m|h|d)?$/.test(f.expires.trim()))
    return { field: 'expires', message: 'Expires in: a duration such as 30d or 12h.' }
  return null
}

interface Form {
  name: string
  models: string[]
  scopes: Scope[]
  rpm: string
  tpm: string
  dailyTokens: string
  expires: string
  ips: string
  tags: string
  org: string
}

const EMPTY: Form = {
  name: '',
  models: [],
  scopes: ['inference', 'embeddings'],
  rpm: '',
  tpm: '',
  dailyTokens: '',
  expires: '',
  ips: '',
  tags: '',
  org: '',
}

/** Create a key: its limits and reach; the key itself is shown once, with a copy button. */
export function KeyForm({ admin }: { admin: boolean }) {
  const [form, setForm] = useState<Form>(EMPTY)
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null)
  const [shownProblem, setShownProblem] = useState<Problem | null>(null)
  const models = useStore(useShallow((s) => selectModelIds(s).map((id) => s.models[id]!.name)))
  const orgs = useStore((s) => dataOf(s.orgs)) ?? []
  const { busy, error, run } = useAction()
  const set = (key: keyof Form) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value })
  const flag = (field: keyof Form) =>
    shownProblem?.field === field ? { 'aria-invalid': true, 'aria-describedby': 'key-form-error' } : {}
  const toggle = <T,>(values: T[], value: T) => (values.includes(value) ? values.filter((v) => v !== value) : [...values, value])

  const submit = (e: FormEvent) => {
    e.preventDefault()
    const wrong = problem(form)
    setShownProblem(wrong)
    if (wrong !== null) return
    const n = (v: string) => (v.trim() === '' ? undefined : Number(v))
    const body: KeyCreateBody = {
      name: form.name.trim(),
      scopes: form.scopes,
      ...(form.models.length > 0 && { models: form.models }),
      ...(n(form.rpm) !== undefined && { rpm: n(form.rpm) }),
      ...(n(form.tpm) !== undefined && { tpm: n(form.tpm) }),
      ...(n(form.dailyTokens) !== undefined && { dailyTokens: n(form.dailyTokens) }),
      ...(form.expires.trim() !== '' && { expires: form.expires.trim() }),
      ...(list(form.ips).length > 0 && { ips: list(form.ips) }),
      ...(list(form.tags).length > 0 && { tags: list(form.tags) }),
      ...(form.org !== '' && { org: form.org }),
    }
    void run('create', async () => {
      const { key } = await api.createKey(body)
      setCreated({ name: body.name, key })
      setForm(EMPTY)
      await loadKeys()
    })
  }

  return (
    <form className="panel" onSubmit={submit} aria-labelledby="new-key-title" noValidate>
      <h2 id="new-key-title">New API key</h2>
      {created && (
        <>
          <div className="secret" data-testid="created-key">
            <code data-testid="created-key-value">{created.key}</code>
            <CopyButton text={created.key} />
          </div>
          <p className="small rule" role="status">
            <span className="once">Copy “{created.name}” now: you will not see it again.</span>{' '}
            <span className="muted">Cortex keeps only its hash; a lost key is revoked and replaced.</span>
          </p>
        </>
      )}
      <div className="form-row">
        <label className="field">
          <span>Name</span>
          <input
            value={form.name}
            onChange={set('name')}
            {...flag('name')}
            maxLength={64}
            placeholder="continue-laptop"
            data-testid="key-form-name"
          />
        </label>
        <label className="field">
          <span>Expires in</span>
          <input value={form.expires} onChange={set('expires')} {...flag('expires')} placeholder="never (or 30d, 12h)" />
        </label>
        {admin && (
          <label className="field">
            <span>Organization</span>
            <select value={form.org} onChange={set('org')}>
              <option value="">none</option>
              {orgs.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      <fieldset className="field">
        <legend>Models it may use</legend>
        <div className="checks">
          {models.length === 0 && <span className="muted">No models yet: the key will reach every model added later.</span>}
          {models.map((m) => (
            <label key={m}>
              <input
                type="checkbox"
                checked={form.models.includes(m)}
                onChange={() => setForm({ ...form, models: toggle(form.models, m) })}
                data-testid={`key-model-${m}`}
              />
              {m}
            </label>
          ))}
        </div>
        <small className="muted">None ticked: every model.</small>
      </fieldset>
      <fieldset className="field">
        <legend>What it may do</legend>
        <div className="checks">
          {SCOPES.map(({ scope, label }) => (
            <label key={scope}>
              <input
                type="checkbox"
                checked={form.scopes.includes(scope)}
                onChange={() => setForm({ ...form, scopes: toggle(form.scopes, scope) })}
              />
              {label}
            </label>
          ))}
        </div>
      </fieldset>
      <div className="form-row">
        <label className="field">
          <span>Requests per minute</span>
          <input inputMode="numeric" value={form.rpm} onChange={set('rpm')} {...flag('rpm')} placeholder="no limit" />
        </label>
        <label className="field">
          <span>Tokens per minute</span>
          <input inputMode="numeric" value={form.tpm} onChange={set('tpm')} {...flag('tpm')} placeholder="no limit" />
        </label>
        <label className="field">
          <span>Tokens per day</span>
          <input
            inputMode="numeric"
            value={form.dailyTokens}
            onChange={set('dailyTokens')}
            {...flag('dailyTokens')}
            placeholder="no limit"
          />
        </label>
      </div>
      <div className="form-row">
        <label className="field">
          <span>Client addresses</span>
          <input
            value={form.ips}
            onChange={set('ips')}
            {...flag('ips')}
            placeholder="anywhere (or 10.0.0.0/8, ::1)"
            className="mono"
          />
        </label>
        <label className="field">
          <span>Tags (for routes)</span>
          <input value={form.tags} onChange={set('tags')} {...flag('tags')} placeholder="batch, n8n" />
        </label>
      </div>
      {(shownProblem ?? error) && (
        <p className="form-error" role="alert" id="key-form-error" data-testid="key-form-error">
          {shownProblem?.message ?? error}
        </p>
      )}
      <button type="submit" className="primary" disabled={busy !== null} data-testid="key-form-create">
        {busy ? 'Creating…' : 'Create key'}
      </button>
    </form>
  )
}
