import type { CachedAnswer } from './cache-store.js'
import type { Usage } from './usage.js'

type Json = Record<string, unknown>

/** The endpoints whose whole answers and chunks Cortex can turn into each other (OpenAI's chat and completions). */
const CONVERTS = new Set(['/chat/completions', '/completions'])

/** Whether a kept answer can be given in the shape asked: as kept always, the other shape for chat and completions. */
export function convertible(answer: CachedAnswer, stream: boolean, endpoint: string): boolean {
  return (answer.kind === 'sse') === stream || CONVERTS.has(endpoint)
}

const frame = (event: unknown) => `data: ${JSON.stringify(event)}\n\n`

const usageJson = (u: Usage) => ({
  prompt_tokens: u.promptTokens ?? 0,
  completion_tokens: u.completionTokens ?? 0,
  total_tokens: (u.promptTokens ?? 0) + (u.completionTokens ?? 0),
})

/**
 * A whole chat or completions answer as the chunks a stream of it would have been: per choice its whole message in one
 * delta, then its finish reason; the recorded usage in a `choices: []` chunk when the client asked for it; `[DONE]`.
 */
export function wholeToStream(body: Buffer, model: string, includeUsage: boolean): Buffer {
  const whole = JSON.parse(body.toString('utf8')) as Json
  const chat = whole.object === 'chat.completion'
  const base = {
    id: whole.id,
    object: chat ? 'chat.completion.chunk' : 'text_completion',
    created: whole.created,
    model,
    ...(whole.system_fingerprint !== undefined && { system_fingerprint: whole.system_fingerprint }),
  }
  const choices = (Array.isArray(whole.choices) ? whole.choices : []) as Json[]
  const out: string[] = []
  for (const c of choices) {
    const m = (c.message ?? {}) as Json
    const toolCalls = Array.isArray(m.tool_calls) ? m.tool_calls.map((t: Json, index: number) => ({ index, ...t })) : undefined
    const delta = chat ? { ...m, ...(toolCalls !== undefined && { tool_calls: toolCalls }) } : undefined
    const content = chat ? { delta } : { text: c.text }
    out.push(frame({ ...base, choices: [{ index: c.index, ...content, logprobs: c.logprobs ?? null, finish_reason: null }] }))
    const end = chat ? { delta: {} } : { text: '' }
    out.push(frame({ ...base, choices: [{ index: c.index, ...end, finish_reason: c.finish_reason ?? null }] }))
  }
  if (includeUsage && whole.usage !== undefined) out.push(frame({ ...base, choices: [], usage: whole.usage }))
  out.push('data: [DONE]\n\n')
  return Buffer.from(out.join(''))
}

interface Gathered {
  index: number
  role?: unknown
  content: string
  reasoning: string
  text: string
  toolCalls: Json[]
  finishReason: unknown
}

function gather(choices: Map<number, Gathered>, c: Json): void {
  const index = typeof c.index === 'number' ? c.index : 0
  let g = choices.get(index)
  if (g === undefined) {
    g = { index, content: '', reasoning: '', text: '', toolCalls: [], finishReason: null }
    choices.set(index, g)
  }
  if (typeof c.text === 'string') g.text += c.text
  if (c.finish_reason != null) g.finishReason = c.finish_reason
  const d = (c.delta ?? {}) as Json
  if (d.role !== undefined) g.role = d.role
  if (typeof d.content === 'string') g.content += d.content
  if (typeof d.reasoning_content === 'string') g.reasoning += d.reasoning_content
  for (const t of Array.isArray(d.tool_calls) ? (d.tool_calls as Json[]) : []) {
    const at = typeof t.index === 'number' ? t.index : 0
    const fn = (t.function ?? {}) as Json
    const known = (g.toolCalls[at] ??= { id: t.id, type: t.type ?? 'function', function: { name: '', arguments: '' } })
    const kfn = known.function as Json
    if (t.id !== undefined) known.id = t.id
    if (typeof fn.name === 'string') kfn.name = String(kfn.name) + fn.name
    if (typeof fn.arguments === 'string') kfn.arguments = String(kfn.arguments) + fn.arguments
  }
}

/** A kept chat or completions stream as the one whole answer it adds up to, with the recorded usage. */
export function streamToWhole(body: Buffer, model: string, usage: Usage | null): Buffer {
  let first: Json | null = null
  const choices = new Map<number, Gathered>()
  for (const line of body.toString('utf8').split('\n')) {
    if (!line.startsWith('data:')) continue
    const data = line.slice(5).trim()
    if (data === '[DONE]' || data === '') continue
    const event = JSON.parse(data) as Json
    first ??= event
    for (const c of Array.isArray(event.choices) ? (event.choices as Json[]) : []) gather(choices, c)
  }
  const chat = first?.object === 'chat.completion.chunk'
  const whole = {
    id: first?.id,
    object: chat ? 'chat.completion' : 'text_completion',
    created: first?.created,
    model,
    ...(first?.system_fingerprint !== undefined && { system_fingerprint: first.system_fingerprint }),
    choices: [...choices.values()]
      .sort((a, b) => a.index - b.index)
      .map((g) =>
        chat
          ? {
              index: g.index,
              message: {
                role: g.role ?? 'assistant',
                content: g.content === '' && g.toolCalls.length > 0 ? null : g.content,
                ...(g.reasoning !== '' && { reasoning_content: g.reasoning }),
                ...(g.toolCalls.length > 0 && { tool_calls: g.toolCalls }),
              },
              finish_reason: g.finishReason,
            }
          : { index: g.index, text: g.text, finish_reason: g.finishReason },
      ),
    ...(usage !== null && { usage: usageJson(usage) }),
  }
  return Buffer.from(JSON.stringify(whole))
}
