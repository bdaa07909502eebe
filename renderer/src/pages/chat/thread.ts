import type { ChatMessageView } from '../../../../gateway/contract/index.js'

/** The branch shown: from the newest message back to the first through its parents, oldest first. */
export function newestBranch(messages: readonly ChatMessageView[]): ChatMessageView[] {
  const byId = new Map(messages.map((m) => [m.id, m]))
  const path: ChatMessageView[] = []
  for (let m = messages.at(-1); m !== undefined; m = m.parentId === null ? undefined : byId.get(m.parentId)) path.push(m)
  return path.reverse()
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
