/** Random JSON request bodies for the scanner/rewrite property tests, from a seeded generator (test/support/random.ts). */

type Next = () => number

const pick = <T>(next: Next, items: readonly T[]): T => items[Math.floor(next() * items.length)]!

const CHARS = [
  'a',
  'z',
  ' ',
  '"',
  '\\',
  '/',
  '\n',
  '\t',
  '\u0000',
  '\u001f',
  '{',
  '}',
  '[',
  ']',
  ':',
  ',',
  'é',
  '日',
  '😀',
  '\u2028',
  'model',
  '"model":',
]

function ws(next: Next): string {
  return next() < 0.7 ? '' : pick(next, [' ', '\n', '\t', '\r\n', '  '])
}

/** A JSON string literal, sometimes with needless \uXXXX escapes. */
function str(next: Next, text: string): string {
  if (next() < 0.7) return JSON.stringify(text)
  let out = '"'
  for (const ch of text) {
    out +=
      next() < 0.3
        ? Array.from({ length: ch.length }, (_, i) => `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')
        : JSON.stringify(ch).slice(1, -1)
  }
  return out + '"'
}

function randomText(next: Next): string {
  const n = Math.floor(next() * 12)
  let s = ''
  for (let i = 0; i < n; i++) s += pick(next, CHARS)
  return s
}

function number(next: Next): string {
  return pick(next, ['0', '-1', '42', '3.25', '-0.5e-3', '1E+2', String(Math.floor(next() * 1e9))])
}

export function value(next: Next, depth: number): string {
  const r = next()
  if (depth <= 0 || r < 0.45) {
    return pick(next, [() => str(next, randomText(next)), () => number(next), () => 'true', () => 'false', () => 'null'])()
  }
  const n = Math.floor(next() * 4)
  const items = Array.from({ length: n }, () =>
    r < 0.7 ? value(next, depth - 1) : `${str(next, randomText(next))}${ws(next)}:${ws(next)}${value(next, depth - 1)}`,
  )
  const [open, close] = r < 0.7 ? ['[', ']'] : ['{', '}']
  return `${open}${ws(next)}${items.join(`${ws(next)},${ws(next)}`)}${ws(next)}${close}`
}

const KEYS = [
  'model',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'messages',
  'prompt',
  'input',
  'temperature',
  'x',
]

function routingValue(next: Next, key: string): string {
  if (next() < 0.3) return value(next, 3)
  switch (key) {
    case 'model':
      return str(next, randomText(next) || 'qwen')
    case 'stream':
      return pick(next, ['true', 'false', 'null'])
    case 'max_tokens':
    case 'max_completion_tokens':
      return pick(next, ['16', '0', '1e3', '-1', 'null', '4096'])
    case 'stream_options':
      return pick(next, ['{"include_usage":true}', '{"include_usage":false}', '{}', 'null', '{"continuous_usage_stats":true}'])
    default:
      return value(next, 3)
  }
}

/** Keys that may appear more than once: the gateway refuses a repeated routing field (duplicate_member). */
const REPEATABLE = new Set(['temperature', 'x'])

/** A top-level object with random members (some repeated, some keys escaped) and random whitespace. */
export function randomBody(next: Next): string {
  const n = Math.floor(next() * 8)
  const used = new Set<string>()
  const members = Array.from({ length: n }, () => {
    let key = pick(next, KEYS)
    if (used.has(key) && !REPEATABLE.has(key)) key = pick(next, [...REPEATABLE])
    used.add(key)
    return `${str(next, key)}${ws(next)}:${ws(next)}${routingValue(next, key)}`
  })
  return `${ws(next)}{${ws(next)}${members.join(`${ws(next)},${ws(next)}`)}${ws(next)}}${ws(next)}`
}
