import type { ChatDetail } from '../contract/chat.js'
import type { ChatRecord, MessageRecord } from '../store/chats.js'
import { newestId, pathTo } from './tree.js'
import { chatView, messageView } from './views.js'

export interface ExportFile {
  fileName: string
  contentType: string
  text: string
}

/** A name for the file that is safe everywhere: the title's letters and digits, else "chat". */
function fileStem(title: string): string {
  const stem = title
    .normalize('NFKD')
    .replace(/[^\w\s-]/g, '')
    .trim()
    .replace(/\s+/g, '-')
    .slice(0, 60)
  return stem === '' ? 'chat' : stem
}

const STATE_WORDS = { streaming: 'still streaming', complete: null, cut_off: 'cut off', failed: 'failed' } as const

function figuresLine(m: MessageRecord): string {
  const f = messageView(m).figures
  const parts: string[] = []
  if (m.model !== null) parts.push(m.model)
  if (f?.ttftMs != null) parts.push(`TTFT ${Math.round(f.ttftMs)} ms`)
  if (f?.decodeTokensPerSecond != null) parts.push(`${f.decodeTokensPerSecond.toFixed(1)} tok/s`)
  if (f?.promptTokens != null && f.completionTokens != null)
    parts.push(`${f.promptTokens} prompt + ${f.completionTokens} completion tokens`)
  const state = STATE_WORDS[m.state]
  if (state !== null) parts.push(m.error === null ? state : `${state}: ${m.error}`)
  return parts.length === 0 ? '' : `\n\n_${parts.join(' · ')}_`
}

/**
 * Markdown of the branch last written to (the path to the newest message), as a person reads it; JSON of the whole
 * tree, every branch, as the API returns it.
 */
export function exportChat(chat: ChatRecord, messages: MessageRecord[], format: 'md' | 'json'): ExportFile {
  const stem = fileStem(chat.title)
  if (format === 'json') {
    const detail: ChatDetail = { ...chatView(chat), messages: messages.map(messageView) }
    return {
      fileName: `${stem}.json`,
      contentType: 'application/json; charset=utf-8',
      text: `${JSON.stringify(detail, null, 2)}\n`,
    }
  }
  const newest = newestId(messages)
  const branch = newest === null ? [] : pathTo(messages, newest)
  const lines = [`# ${chat.title}`, '', `Model: ${chat.model}`]
  if (chat.params.system !== undefined) lines.push('', '## System', '', chat.params.system)
  for (const m of branch) {
    lines.push('', m.role === 'user' ? '## You' : '## Assistant', '')
    if (m.reasoning !== null) lines.push(...m.reasoning.split('\n').map((l) => `> ${l}`), '')
    lines.push(m.content + (m.role === 'assistant' ? figuresLine(m) : ''))
  }
  return { fileName: `${stem}.md`, contentType: 'text/markdown; charset=utf-8', text: `${lines.join('\n')}\n` }
}
