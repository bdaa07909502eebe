/** Text fields of the model forms ⇄ definition values, the same way in the edit and recipe forms. */
import type { ModelCreateBody } from '../../../../gateway/contract/index.js'

type Gpus = NonNullable<ModelCreateBody['gpus']>

/** "a, b" → ["a", "b"]. */
export const parseList = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)

/** Engine flags split on spaces except inside quotes: `-c 8192 --chat-template "a b"`. */
export const parseArgs = (text: string) => [...text.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!)
export const formatArgs = (args: readonly string[]) => args.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')

/** "all", "none", or indexes and UUIDs separated by commas. */
export function parseGpus(text: string): Gpus {
  const t = text.trim()
  if (t === '' || t === 'all') return 'all'
  if (t === 'none') return 'none'
  return parseList(t).map((g) => (/^\d+$/.test(g) ? Number(g) : g))
}
export const formatGpus = (gpus: Gpus | undefined) => (gpus === undefined ? 'all' : Array.isArray(gpus) ? gpus.join(',') : gpus)
