import { Lexer, type Token, type Tokens } from 'marked'
import { memo, type ReactNode } from 'react'
import { CopyButton } from '../../components/CopyButton.js'
import { highlighted } from './highlight.js'

/**
 * A model's answer as Markdown, made of React elements only: marked's lexer reads it into tokens, and each token
 * becomes an element whose text React escapes. No HTML string reaches the page, so raw HTML a model writes is shown
 * as the text it is; links go out only to http(s), in a new window; images are links, never loaded.
 */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  const tokens = lexAnswer(text)
  if (tokens === null)
    return (
      <div className="markdown">
        <p className="message-text">{text}</p>
      </div>
    )
  return <div className="markdown">{blocks(tokens)}</div>
})

/** Longer answers are shown as plain text: marked's time grows faster than the text on some inputs. */
export const MAX_MARKDOWN = 100_000
/** A paragraph (or cell, heading…) longer than this keeps its text without inline Markdown (`_a_a_a…` is quadratic). */
export const MAX_INLINE = 4_000
/** Nesting (`>`, list markers) and indentation a line may open with: deeper nests overflow marked's stack. */
const MAX_MARKERS = 32
const MAX_INDENT = 128
const LINE_PREFIX = /^(?:[ \t]|>|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t]))*/gm

function tooDeep(text: string): boolean {
  LINE_PREFIX.lastIndex = 0
  for (let m = LINE_PREFIX.exec(text); m !== null; m = LINE_PREFIX.exec(text)) {
    if (m[0] === '') LINE_PREFIX.lastIndex++
    else if (m[0].length > MAX_INDENT || m[0].replace(/[ \t]/g, '').length > MAX_MARKERS) return true
  }
  return false
}

/**
 * An answer's tokens, or null to show it as plain text: too long, nested too deep, or anything marked throws on. A
 * model's text must never freeze or break the page, so inline runs past MAX_INLINE stay plain text.
 */
export function lexAnswer(text: string): Token[] | null {
  if (text.length > MAX_MARKDOWN || tooDeep(text)) return null
  try {
    // Lexer.lex, with each inline run bounded.
    const lexer = new Lexer({ gfm: true })
    const tokens = lexer.blockTokens(text.replace(/\r\n|\r/g, '\n'), lexer.tokens)
    for (const run of lexer.inlineQueue) {
      lexer.state.inRawBlock = false
      if (run.src.length <= MAX_INLINE) lexer.inlineTokens(run.src, run.tokens)
      else run.tokens.push({ type: 'text', raw: run.src, text: run.src })
    }
    lexer.inlineQueue = []
    return tokens
  } catch {
    return null
  }
}

const ENTITY = /&(?:#(\d{1,7})|#x([\da-f]{1,6})|(amp|lt|gt|quot|apos|nbsp));/gi
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' }

/** Markdown's entities (`&amp;`, `&#169;`) as the characters they name; the text stays text. */
export function decodeEntities(s: string): string {
  return s.replace(ENTITY, (all, dec?: string, hex?: string, name?: string) => {
    if (name !== undefined) return NAMED[name.toLowerCase()] ?? all
    const cp = dec !== undefined ? Number(dec) : parseInt(hex!, 16)
    return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : all
  })
}

/** The address a link may open: an absolute http(s) URL, else null (javascript:, data:, relative paths…). */
export function safeHref(href: string): string | null {
  try {
    const url = new URL(href)
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null
  } catch {
    return null
  }
}

function blocks(tokens: Token[]): ReactNode[] {
  return tokens.map((t, i) => block(t, i))
}

function block(t: Token, key: number): ReactNode {
  switch (t.type) {
    case 'space':
    case 'def':
      return null
    case 'paragraph':
      return <p key={key}>{inline((t as Tokens.Paragraph).tokens)}</p>
    case 'heading': {
      const h = t as Tokens.Heading
      // Headings inside an answer sit below the page's own: h3 to h6.
      const Tag = `h${Math.min(6, h.depth + 2)}` as 'h3'
      return <Tag key={key}>{inline(h.tokens)}</Tag>
    }
    case 'code':
      return <CodeBlock key={key} code={(t as Tokens.Code).text} lang={(t as Tokens.Code).lang ?? ''} />
    case 'blockquote':
      return <blockquote key={key}>{blocks((t as Tokens.Blockquote).tokens)}</blockquote>
    case 'hr':
      return <hr key={key} />
    case 'list': {
      const l = t as Tokens.List
      const items = l.items.map((item, j) => <li key={j}>{listItem(item)}</li>)
      return l.ordered ? (
        <ol key={key} start={typeof l.start === 'number' ? l.start : undefined}>
          {items}
        </ol>
      ) : (
        <ul key={key}>{items}</ul>
      )
    }
    case 'table':
      return <Table key={key} t={t as Tokens.Table} />
    case 'html':
      // Raw HTML is text here: it shows as written.
      return (
        <pre key={key} className="md-html">
          {t.raw}
        </pre>
      )
    case 'text': {
      const x = t as Tokens.Text
      return <p key={key}>{x.tokens ? inline(x.tokens) : decodeEntities(x.text)}</p>
    }
    default:
      return <p key={key}>{t.raw}</p>
  }
}

function listItem(item: Tokens.ListItem): ReactNode {
  const parts = item.tokens.map((t, i) => {
    if (t.type === 'checkbox') return <input key={i} type="checkbox" checked={(t as Tokens.Checkbox).checked} disabled />
    // A tight list's text is inline; a loose one's is paragraphs.
    if (t.type === 'text' && !item.loose)
      return <span key={i}>{(t as Tokens.Text).tokens ? inline((t as Tokens.Text).tokens!) : t.raw}</span>
    return block(t, i)
  })
  return parts
}

function Table({ t }: { t: Tokens.Table }) {
  const align = (i: number) => t.align[i] ?? undefined
  return (
    <div className="md-table">
      <table>
        <thead>
          <tr>
            {t.header.map((c, i) => (
              <th key={i} align={align(i)}>
                {inline(c.tokens)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {t.rows.map((row, r) => (
            <tr key={r}>
              {row.map((c, i) => (
                <td key={i} align={align(i)}>
                  {inline(c.tokens)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

function inline(tokens: Token[]): ReactNode[] {
  return tokens.map((t, key) => {
    switch (t.type) {
      case 'text':
        return (t as Tokens.Text).tokens ? (
          <span key={key}>{inline((t as Tokens.Text).tokens!)}</span>
        ) : (
          decodeEntities((t as Tokens.Text).text)
        )
      case 'escape':
        return (t as Tokens.Escape).text
      case 'strong':
        return <strong key={key}>{inline((t as Tokens.Strong).tokens)}</strong>
      case 'em':
        return <em key={key}>{inline((t as Tokens.Em).tokens)}</em>
      case 'del':
        return <del key={key}>{inline((t as Tokens.Del).tokens)}</del>
      case 'codespan':
        return <code key={key}>{(t as Tokens.Codespan).text}</code>
      case 'br':
        return <br key={key} />
      case 'link': {
        const l = t as Tokens.Link
        const href = safeHref(l.href)
        if (href === null) return <span key={key}>{inline(l.tokens)}</span>
        return (
          <a key={key} href={href} target="_blank" rel="noopener noreferrer" title={l.title ?? href}>
            {inline(l.tokens)}
          </a>
        )
      }
      case 'image': {
        const img = t as Tokens.Image
        const href = safeHref(img.href)
        const label = `image: ${img.text || img.href}`
        return href === null ? (
          <span key={key}>[{label}]</span>
        ) : (
          <a key={key} href={href} target="_blank" rel="noopener noreferrer">
            [{label}]
          </a>
        )
      }
      default:
        // Inline HTML (`<b>`, `<img onerror=…>`) and anything unknown: the text as written.
        return t.raw
    }
  })
}

function CodeBlock({ code, lang }: { code: string; lang: string }) {
  const name = lang.split(/\s/, 1)[0]!.toLowerCase()
  return (
    <div className="md-code" data-testid="code-block">
      <div className="md-code-head">
        <span className="muted small">{name || 'code'}</span>
        <CopyButton text={code} label="Copy code" />
      </div>
      <pre>
        <code className="hljs">{highlighted(code, name) ?? code}</code>
      </pre>
    </div>
  )
}
