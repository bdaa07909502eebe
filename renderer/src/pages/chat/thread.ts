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
