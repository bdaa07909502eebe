import type { ChatFigures } from '../contract/chat.js'
import type { MessageFigures, MessageRecord } from '../store/chats.js'

type Node = Pick<MessageRecord, 'id' | 'parentId'>

/** The messages from the root down to `id`, in order; empty when `id` is not among them. */
export function pathTo<T extends Node>(messages: readonly T[], id: string): T[] {
  const byId = new Map(messages.map((m) => [m.id, m]))
  const path: T[] = []
  const seen = new Set<string>()
  for (let at = byId.get(id); at !== undefined; at = at.parentId === null ? undefined : byId.get(at.parentId)) {
    // A cycle cannot be written through the repo (a parent exists before its child); this guards a hand-edited file.
    if (seen.has(at.id)) break
    seen.add(at.id)
    path.push(at)
  }
  return path.reverse()
}

/** Where a new message goes by default: under the newest message of the conversation (the branch last written to). */
export function newestId(messages: readonly Node[]): string | null {
  return messages.at(-1)?.id ?? null
}

/** The children of `parentId` (null: the first messages), oldest first: the branches a view can switch between. */
export function siblings<T extends Node>(messages: readonly T[], parentId: string | null): T[] {
  return messages.filter((m) => m.parentId === parentId)
}

/** Decode speed: completion tokens over the time after the first token, per second. */
export function decodeTokensPerSecond(f: MessageFigures): number | null {
  if (f.completionTokens === null || f.totalMs === null || f.ttftMs === null) return null
  const decodeMs = f.totalMs - f.ttftMs
  return decodeMs > 0 ? (f.completionTokens * 1000) / decodeMs : null
}

export function figuresOf(m: MessageRecord): ChatFigures | null {
  if (m.role !== 'assistant') return null
  const { ttftMs, totalMs, promptTokens, completionTokens } = m
  return { ttftMs, totalMs, promptTokens, completionTokens, decodeTokensPerSecond: decodeTokensPerSecond(m) }
}
