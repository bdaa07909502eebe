import { memberValue, scanObject, type RequestFields, type Span } from './body.js'

/** Replace `span` with `text`; an insertion when `span.start === span.end`. */
export interface Edit {
  span: Span
  text: string
}

/** Applies non-overlapping edits to `buf`, copying the untouched bytes once. */
export function applyEdits(buf: Buffer, edits: Edit[]): Buffer {
  if (edits.length === 0) return buf
  const sorted = [...edits].sort((a, b) => a.span.start - b.span.start)
  const parts: Buffer[] = []
  let at = 0
  for (const { span, text } of sorted) {
    parts.push(buf.subarray(at, span.start), Buffer.from(text))
    at = span.end
  }
  parts.push(buf.subarray(at))
  return Buffer.concat(parts)
}

export interface UpstreamBody {
  body: Buffer
  /** We turned on `stream_options.include_usage` for our own accounting: the client must not see the usage chunk. */
  hideUsage: boolean
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * The body to send upstream: the client's bytes, with at most two spliced edits and never re-serialized whole.
 * `requestUsage`: the endpoint streams OpenAI chunks, so usage is asked for when the client streams without it.
 * `upstreamModel`: a remote's own name for the model, written over `model` when it differs.
 */
export function upstreamBody(
  raw: Buffer,
  fields: RequestFields,
  opts: { requestUsage: boolean; upstreamModel?: string },
): UpstreamBody {
  const edits: Edit[] = []
  let hideUsage = false
  const { streamOptions, scan } = fields
  if (opts.requestUsage && fields.stream === true && !(isPlainObject(streamOptions) && streamOptions.include_usage === true)) {
    const span = scan.members.get('stream_options')
    if (span === undefined) {
      const at = scan.open + 1
      edits.push({ span: { start: at, end: at }, text: `"stream_options":{"include_usage":true}${scan.empty ? '' : ','}` })
      hideUsage = true
    } else if (streamOptions === null || isPlainObject(streamOptions)) {
      // Keep the client's other options (vLLM's continuous_usage_stats, …); the value is a few bytes.
      edits.push({ span, text: JSON.stringify({ ...streamOptions, include_usage: true }) })
      hideUsage = true
    }
    // Any other type is the client's error: forwarded untouched for the engine to reject with its 400.
  }
  const modelSpan = scan.members.get('model')
  if (opts.upstreamModel !== undefined && modelSpan !== undefined && fields.model !== opts.upstreamModel) {
    edits.push({ span: modelSpan, text: JSON.stringify(opts.upstreamModel) })
  }
  return { body: applyEdits(raw, edits), hideUsage }
}

const MODEL_KEY: ReadonlySet<string> = new Set(['model'])

/** A JSON response with its top-level `model` renamed from `from` to `to` (a remote's upstreamModel, back to the client's name). */
export function renameModelInJson(buf: Buffer, from: string, to: string): Buffer {
  const span = scanObject(buf, MODEL_KEY)?.members.get('model')
  if (span === undefined || memberValue(buf, span) !== from) return buf
  return applyEdits(buf, [{ span, text: JSON.stringify(to) }])
}
