import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml'
import { splitPointer } from './issues.js'

export interface ParsedYaml {
  /** The document as plain data; undefined for an empty file. */
  value: unknown
  /** YAML syntax errors, each with its line; when there are any, `value` is not to be trusted. */
  syntaxErrors: Array<{ line: number; message: string }>
  /** The line of the deepest node on the path of a JSON pointer (the key's line for a mapping entry). */
  lineOf(pointer: string): number | null
}

export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false })
  const lineAt = (offset: number) => lineCounter.linePos(offset).line
  return {
    value: doc.errors.length > 0 ? undefined : (doc.toJS() ?? undefined),
    syntaxErrors: doc.errors.map((e) => ({ line: lineAt(e.pos[0]), message: e.message })),
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
