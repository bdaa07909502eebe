import { useState, type FormEvent } from 'react'
import type { ChatParams } from '../../../../gateway/contract/index.js'

type Fields = Record<'system' | 'temperature' | 'top_p' | 'max_tokens' | 'seed' | 'stop', string>

const toFields = (p: ChatParams): Fields => ({
  system: p.system ?? '',
  temperature: p.temperature?.toString() ?? '',
  top_p: p.top_p?.toString() ?? '',
  max_tokens: p.max_tokens?.toString() ?? '',
  seed: p.seed?.toString() ?? '',
  stop: (p.stop ?? []).join('\n'),
})

/** ChatParams' bounds in the contract (conversation.test.tsx holds the two together). */
const MAX_TOKENS = 1_048_576
const MAX_STOP_LENGTH = 500

/** The form's text as parameters, or what is wrong with it (the gateway's ranges: ChatParams in the contract). */
export function parseParams(f: Fields): { params: ChatParams } | { error: string; field: keyof Fields } {
  const params: ChatParams = {}
  if (f.system.trim() !== '') params.system = f.system
  const num = (field: 'temperature' | 'top_p', min: number, max: number) => {
    const v = f[field].trim()
    if (v === '') return null
    const n = Number(v)
    return Number.isFinite(n) && n >= min && n <= max ? n : { error: `${field} is a number from ${min} to ${max}`, field }
  }
  const int = (field: 'max_tokens' | 'seed', min: number, max: number) => {
    const v = f[field].trim()
    if (v === '') return null
    const n = Number(v)
    return Number.isSafeInteger(n) && n >= min && n <= max
      ? n
      : { error: `${field} is a whole number${min > -Infinity ? ` from ${min} to ${max}` : ''}`, field }
  }
  for (const [field, v] of [
    ['temperature', num('temperature', 0, 2)],
    ['top_p', num('top_p', 0, 1)],
    ['max_tokens', int('max_tokens', 1, MAX_TOKENS)],
    ['seed', int('seed', -Infinity, Infinity)],
  ] as const) {
    if (typeof v === 'object' && v !== null) return v
    if (v !== null) params[field] = v
  }
  const stop = f.stop.split('\n').filter((s) => s !== '')
  if (stop.length > 4) return { error: 'at most 4 stop sequences, one a line', field: 'stop' }
  if (stop.some((s) => s.length > MAX_STOP_LENGTH))
    return { error: `a stop sequence is at most ${MAX_STOP_LENGTH} characters`, field: 'stop' }
  if (stop.length > 0) params.stop = stop
  return { params }
}

/** A conversation's system prompt and sampling parameters; an empty field is the engine's default. */
export function ParamsEditor({
  params,
  onSave,
  onClose,
}: {
  params: ChatParams
  onSave: (p: ChatParams) => Promise<unknown>
  onClose: () => void
}) {
  const [fields, setFields] = useState(() => toFields(params))
  const [error, setError] = useState<{ error: string; field?: keyof Fields } | null>(null)
  const [saving, setSaving] = useState(false)
  const set = (k: keyof Fields) => (e: { target: { value: string } }) => setFields({ ...fields, [k]: e.target.value })
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const parsed = parseParams(fields)
    if ('error' in parsed) return setError(parsed)
    setSaving(true)
    try {
      await onSave(parsed.params)
      onClose()
    } catch (err) {
      setError({ error: err instanceof Error ? err.message : String(err) })
    } finally {
      setSaving(false)
    }
  }
  const field = (k: Exclude<keyof Fields, 'system' | 'stop'>, label: string, hint: string) => (
    <label className="field">
      <span>{label}</span>
      <input
        value={fields[k]}
        onChange={set(k)}
        inputMode="decimal"
        placeholder={hint}
        aria-invalid={error?.field === k || undefined}
        data-testid={`param-${k}`}
      />
    </label>
  )
  return (
    <form className="chat-params" onSubmit={(e) => void submit(e)} aria-label="Parameters" data-testid="chat-params">
      <label className="field chat-params-wide">
        <span>System prompt</span>
        <textarea value={fields.system} onChange={set('system')} rows={3} data-testid="param-system" />
      </label>
      {field('temperature', 'Temperature', '0–2')}
      {field('top_p', 'top_p', '0–1')}
      {field('max_tokens', 'Max tokens', 'engine default')}
      {field('seed', 'Seed', 'random')}
      <label className="field chat-params-wide">
        <span>Stop sequences (one a line, up to 4)</span>
        <textarea
          value={fields.stop}
          onChange={set('stop')}
          rows={2}
          aria-invalid={error?.field === 'stop' || undefined}
          data-testid="param-stop"
        />
      </label>
      {error && (
        <p className="form-error small chat-params-wide" role="alert">
          {error.error}
        </p>
      )}
      <span className="form-actions chat-params-wide">
        <button type="submit" className="primary" disabled={saving} data-testid="params-save">
          {saving ? 'Saving…' : 'Save'}
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </span>
    </form>
  )
}
