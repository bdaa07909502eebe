import hljs from 'highlight.js/lib/core'
import bash from 'highlight.js/lib/languages/bash'
import c from 'highlight.js/lib/languages/c'
import cpp from 'highlight.js/lib/languages/cpp'
import css from 'highlight.js/lib/languages/css'
import diff from 'highlight.js/lib/languages/diff'
import go from 'highlight.js/lib/languages/go'
import java from 'highlight.js/lib/languages/java'
import javascript from 'highlight.js/lib/languages/javascript'
import json from 'highlight.js/lib/languages/json'
import python from 'highlight.js/lib/languages/python'
import rust from 'highlight.js/lib/languages/rust'
import sql from 'highlight.js/lib/languages/sql'
import typescript from 'highlight.js/lib/languages/typescript'
import xml from 'highlight.js/lib/languages/xml'
import yaml from 'highlight.js/lib/languages/yaml'
import type { ReactNode } from 'react'

const LANGUAGES = { bash, c, cpp, css, diff, go, java, javascript, json, python, rust, sql, typescript, xml, yaml }
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language)

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#x27;': "'" }
/** What highlight.js writes: its spans (class names only), their ends, and text with its five escapes. */
const PIECE = /<span class="([\w\- ]+)">|<\/span>|[^<]+/gy

/** Longer code stays plain text: highlight.js's time grows faster than the code (100 KB of Rust `r#"` took 2 s). */
export const MAX_HIGHLIGHT = 10_000

/**
 * A code block's text as React nodes with highlight.js's classes, or null for a language it does not know or code past
 * MAX_HIGHLIGHT. Its HTML is
 * never given to the page: it is read back piece by piece, spans and escaped text only, into elements whose text
 * React escapes again — anything else in it (there should be nothing) gives up on highlighting.
 */
export function highlighted(code: string, lang: string): ReactNode[] | null {
  if (lang === '' || code.length > MAX_HIGHLIGHT || hljs.getLanguage(lang) === undefined) return null
  const html = hljs.highlight(code, { language: lang, ignoreIllegals: true }).value
  const root: ReactNode[] = []
  const stack: Array<{ className: string; children: ReactNode[] }> = []
  let key = 0
  let read = 0
  PIECE.lastIndex = 0
  for (let m = PIECE.exec(html); m !== null; m = PIECE.exec(html)) {
    read = PIECE.lastIndex
    const into = stack.at(-1)?.children ?? root
    if (m[1] !== undefined) stack.push({ className: m[1], children: [] })
    else if (m[0] === '</span>') {
      const span = stack.pop()
      if (span === undefined) return null
      ;(stack.at(-1)?.children ?? root).push(
        <span key={key++} className={span.className}>
          {span.children}
        </span>,
      )
    } else into.push(m[0].replace(/&(amp|lt|gt|quot|#x27);/g, (e) => ENTITIES[e]!))
  }
  if (read !== html.length || stack.length !== 0) return null
  return root
}
