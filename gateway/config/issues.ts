import type { ConfigIssue } from './types.js'

/** A problem found inside a value, before it is placed in a file: a JSON pointer and the text after it. */
export interface Problem {
  path: string
  expected: string
}

/** Every problem of a configuration at once; `cortex serve` prints the message and exits. */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[]
  constructor(issues: ConfigIssue[]) {
    const noun = issues.length === 1 ? 'problem' : 'problems'
    super(`invalid configuration (${issues.length} ${noun}):\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`)
    this.name = 'ConfigError'
    this.issues = issues
  }
}

/** `cortex.yaml:12 models[0].ttl: expected a duration like 30s, 30m, 2h (got "5 minutes")` */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line === null ? issue.file : `${issue.file}:${issue.line}`
  const path = displayPath(issue.path)
  return `${where}${path ? ` ${path}` : ''}: ${issue.expected}`
}

/** `/models/0/queue/size` → `models[0].queue.size` */
export function displayPath(pointer: string): string {
  return splitPointer(pointer).reduce((out, raw) => {
    // A key is whatever the file or body says: an unknown one of a megabyte is shown cut, like any echoed value.
    const segment = raw.length > 64 ? `${raw.slice(0, 64)}…` : raw
    return /^\d+$/.test(segment) ? `${out}[${segment}]` : out ? `${out}.${segment}` : segment
  }, '')
}

export function splitPointer(pointer: string): string[] {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
}

export function joinPointer(base: string, ...segments: Array<string | number>): string {
  return base + segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('')
}

/** The value at a JSON pointer, or undefined. */
export function valueAt(root: unknown, pointer: string): unknown {
  let node = root
  for (const segment of splitPointer(pointer)) {
    if (node === null || typeof node !== 'object') return undefined
    node = (node as Record<string, unknown>)[segment]
  }
  return node
}

/** How a value shows in "(got …)": strings quoted and cut, containers named. */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list'
  if (value === null) return 'null'
  if (value === undefined) return 'nothing'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
  return String(value)
}
