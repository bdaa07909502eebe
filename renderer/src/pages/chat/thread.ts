import type { ChatMessageView } from '../../../../gateway/contract/index.js'

/** The branch ending at `leaf` (null or unknown: the newest message), oldest first, through each message's parent. */
export function branchTo(messages: readonly ChatMessageView[], leaf: string | null): ChatMessageView[] {
  const byId = new Map(messages.map((m) => [m.id, m]))
  const path: ChatMessageView[] = []
  const start = (leaf === null ? undefined : byId.get(leaf)) ?? messages.at(-1)
  const seen = new Set<string>()
  // The gateway writes a parent before its child, so there is no cycle; the guard keeps a bad answer from hanging the page.
  for (let m = start; m !== undefined && !seen.has(m.id); m = m.parentId === null ? undefined : byId.get(m.parentId)) {
    seen.add(m.id)
    path.push(m)
  }
  return path.reverse()
}

/** The newest message at or below `id`: where switching to the branch `id` starts lands. */
export function newestUnder(messages: readonly ChatMessageView[], id: string): string {
  const parent = new Map(messages.map((m) => [m.id, m.parentId]))
  for (let i = messages.length - 1; i >= 0; i--) {
    let at: string | null | undefined = messages[i]!.id
    for (let steps = 0; at != null && steps <= messages.length; steps++, at = parent.get(at))
      if (at === id) return messages[i]!.id
  }
  return id
}

/** The messages beside `m`: the same parent and role (the edits of a question, the answers to one), oldest first. */
export function siblingsOf(messages: readonly ChatMessageView[], m: ChatMessageView): ChatMessageView[] {
  return messages.filter((x) => x.parentId === m.parentId && x.role === m.role)
}

/** The newest answer each model gave to `question`, in the order of `models` (compare shows them side by side). */
export function answersBy(messages: readonly ChatMessageView[], question: string, models: readonly string[]) {
  const answers = messages.filter((m) => m.parentId === question && m.role === 'assistant')
  return models.map((model) => answers.findLast((a) => a.model === model) ?? null)
}

/**
 * About how many tokens the next send needs, as the gateway estimates it before it refuses one (request bytes ÷ 4,
 * plus max_tokens): the system prompt, the branch and the new message.
 */
export function sendEstimate(
  branch: readonly ChatMessageView[],
  draft: string,
  params: { system?: string; max_tokens?: number },
): number {
  const bytes = (s: string) => new TextEncoder().encode(s).length
  // Each message's JSON around its text ({"role":"assistant","content":""},) is about 40 bytes.
  const texts = [params.system ?? '', ...branch.map((m) => m.content), draft]
  const prompt = Math.ceil(texts.reduce((n, t) => n + bytes(t) + 40, 120) / 4)
  return prompt + (params.max_tokens ?? 0)
}

/** Tokens the conversation holds now: the last answer's prompt plus what it wrote (its usage row's figures). */
export function contextUsed(branch: readonly ChatMessageView[]): number | null {
  const last = [...branch].reverse().find((m) => m.role === 'assistant' && m.figures?.promptTokens != null)
  if (!last?.figures) return null
  return (last.figures.promptTokens ?? 0) + (last.figures.completionTokens ?? 0)
}

/**
 * An answer's reasoning apart from its text: `reasoning_content` the engine sent separately, and a `<think>…</think>`
 * block the model wrote at the start of its text (some templates leave out the opening tag). While the block is still
 * open, everything so far is reasoning.
 */
export function splitReasoning(m: Pick<ChatMessageView, 'content' | 'reasoning'>): { reasoning: string | null; text: string } {
  const lead = /^\s*<think>/.exec(m.content)
  const close = m.content.indexOf('</think>')
  let thought: string | null = null
  let text = m.content
  if (lead !== null) {
    thought = close === -1 ? m.content.slice(lead[0].length) : m.content.slice(lead[0].length, close)
    text = close === -1 ? '' : m.content.slice(close + '</think>'.length)
  } else if (close !== -1 && !m.content.slice(0, close).includes('<think>')) {
    thought = m.content.slice(0, close)
    text = m.content.slice(close + '</think>'.length)
  }
  const parts = [m.reasoning, thought?.trim()].filter((p): p is string => p != null && p !== '')
  return { reasoning: parts.length === 0 ? null : parts.join('\n\n'), text: thought === null ? text : text.trimStart() }
}
