import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml'
import { splitPointer } from './issues.js'

export interface ParsedYaml {
  /** The document as plain data; undefined for an empty file. */
  value: unknown
  /** YAML syntax errors, each with its line; when there are any, `value` is not to be trusted. */
  syntaxErrors: Array<{ line: number; message: string }>
  /** The line of the deepest node on the path of a JSON pointer (the key's line for a mapping entry). */
  lineOf(pointer: string): number | null
}

/** Config files and recipes are a few KiB; a bigger text is refused before it is parsed. */
export const MAX_YAML_BYTES = 1024 * 1024

/**
 * How many alias expansions a document may need (the `yaml` package's own default, made explicit): a "billion laughs"
 * of nested anchors would otherwise build gigabytes from a few hundred bytes.
 */
const MAX_ALIAS_COUNT = 100

/** The one YAML parser: config files and recipes. Every way a text can fail is a syntax error with a line. */
export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter()
  const lineAt = (offset: number) => lineCounter.linePos(offset).line
  const bytes = Buffer.byteLength(text)
  if (bytes > MAX_YAML_BYTES) {
    const message = `expected at most ${MAX_YAML_BYTES / 1024 / 1024} MiB of YAML (got ${(bytes / 1024 / 1024).toFixed(1)} MiB)`
    return { value: undefined, syntaxErrors: [{ line: 1, message }], lineOf: () => null }
  }
  const doc = parseDocument(text, { lineCounter, prettyErrors: false })
  const syntaxErrors = doc.errors.map((e) => ({ line: lineAt(e.pos[0]), message: e.message }))
  let value: unknown
  if (syntaxErrors.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? undefined
    } catch (err) {
      // toJS throws a ReferenceError past maxAliasCount; it is the text's fault, so it is reported like a syntax error.
      const message = `expected at most ${MAX_ALIAS_COUNT} alias expansions (*name) in all, as a YAML bomb has more (${(err as Error).message}); write the values out instead`
      syntaxErrors.push({ line: lineAt(firstAlias(doc) ?? 0), message })
    }
  }
  return {
    value: syntaxErrors.length > 0 ? undefined : value,
    syntaxErrors,
    lineOf(pointer) {
      let node: unknown = doc.contents
      let offset = (doc.contents as Node | null)?.range?.[0]
      for (const segment of splitPointer(pointer)) {
        if (isMap(node)) {
          const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment)
          if (!pair) break
          offset = (pair.key as Node).range?.[0] ?? offset
          node = pair.value
        } else if (isSeq(node)) {
          const item = node.items[Number(segment)] as Node | undefined
          if (!item) break
          offset = item.range?.[0] ?? offset
          node = item
        } else break
      }
      return offset === undefined ? null : lineAt(offset)
    },
  }
}

function firstAlias(doc: Document): number | undefined {
  let offset: number | undefined
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0]
      return visit.BREAK
    },
  })
  return offset
}
