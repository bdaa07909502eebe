import type { Problem } from './issues.js'

interface Named {
  name?: unknown
  aliases?: unknown
}

const names = (entry: Named): string[] => [
  ...(typeof entry.name === 'string' ? [entry.name] : []),
  ...(Array.isArray(entry.aliases) ? entry.aliases.filter((a): a is string => typeof a === 'string') : []),
]

/**
 * The rules of `routes:` a schema cannot say: a route's names are not a model's (one namespace), every target and
 * fallback names a model (not a route), and a target's prompt bounds are in order.
 */
export function routeProblems(routes: unknown, models: unknown): Problem[] {
  if (!Array.isArray(routes)) return []
  const modelNames = new Set(
    (Array.isArray(models) ? models : []).flatMap((m) => (typeof m === 'object' && m !== null ? names(m as Named) : [])),
  )
  const routeOwner = new Map<string, string>()
  const problems: Problem[] = []
  routes.forEach((route: unknown, index) => {
    if (typeof route !== 'object' || route === null) return
    const r = route as Named & { targets?: unknown; fallback?: unknown }
    const at = `/routes/${index}`
    const label = `routes[${index}]${typeof r.name === 'string' ? ` (${r.name})` : ''}`
    const own = [
      { value: r.name, path: `${at}/name`, what: 'name' },
      ...(Array.isArray(r.aliases) ? r.aliases : []).map((value: unknown, j) => ({
        value,
        path: `${at}/aliases/${j}`,
        what: 'alias',
      })),
    ]
    for (const { value, path, what } of own) {
      if (typeof value !== 'string') continue
      if (modelNames.has(value)) {
        problems.push({
          path,
          expected: `${what} "${value}" is already a model's name or alias; routes and models share one namespace`,
        })
      } else if (routeOwner.has(value)) {
        problems.push({
          path,
          expected: `${what} "${value}" is already used by ${routeOwner.get(value)}; names and aliases must be unique`,
        })
      } else routeOwner.set(value, label)
    }
    const refer = (value: unknown, path: string) => {
      if (typeof value !== 'string' || modelNames.has(value)) return
      const known = [...modelNames].join(', ') || 'none'
      problems.push({
        path,
        expected: `"${value}" is not a model's name or alias (models: ${known}); targets name models, not routes`,
      })
    }
    if (Array.isArray(r.targets)) {
      r.targets.forEach((t: unknown, j) => {
        if (typeof t !== 'object' || t === null) return
        const target = t as { model?: unknown; minPromptTokens?: unknown; maxPromptTokens?: unknown }
        refer(target.model, `${at}/targets/${j}/model`)
        const { minPromptTokens: min, maxPromptTokens: max } = target
        if (typeof min === 'number' && typeof max === 'number' && min > max) {
          problems.push({
            path: `${at}/targets/${j}/minPromptTokens`,
            expected: `minPromptTokens (${min}) must not exceed maxPromptTokens (${max})`,
          })
        }
      })
    }
    if (r.fallback !== undefined) refer(r.fallback, `${at}/fallback`)
  })
  return problems
}
