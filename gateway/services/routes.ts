import { createHash } from 'node:crypto'
import { routeProblems } from '../config/route-rules.js'
import { displayPath } from '../config/issues.js'
import { toCachePolicy } from '../config/normalize.js'
import { CortexError, quoted } from '../contract/errors.js'
import type { ModelDefinition } from '../contract/model.js'
import type { RouteConfig, RouteDefinition, RoutePatchBody, RouteView } from '../contract/routes.js'
import { routeTable, type RouteTable } from '../router/route.js'
import type { RouteRepo } from '../store/routes.js'

/**
 * Routes on the admin API: those of the config file (read-only, 409 `route_managed_by_config`) and those made here
 * (kept in the database). Names and aliases share one namespace with models' (409 `name_taken`); targets name
 * models. `table` is what the request path reads: a change applies to the next request.
 */
export interface RouteService {
  readonly table: RouteTable
  list(): RouteView[]
  get(id: string): RouteView
  create(body: RouteConfig): RouteView
  update(id: string, patch: RoutePatchBody): RouteView
  remove(id: string): void
}

export interface RouteServiceOptions {
  repo: RouteRepo
  fromConfig: readonly RouteDefinition[]
  /** The models as they are now (the admin API may have added some since start). */
  models: () => ReadonlyArray<Pick<ModelDefinition, 'name' | 'aliases'>>
}

/** A config route's id: from its name, so it stays the same across restarts. */
const configId = (name: string) => `route_cfg_${createHash('sha256').update(name).digest('hex').slice(0, 12)}`

type Draft = Omit<RouteDefinition, 'origin'>

export function createRouteService(o: RouteServiceOptions): RouteService {
  const fromConfig: RouteView[] = o.fromConfig.map((r) => ({ ...r, id: configId(r.name) }))
  let routes: RouteView[]
  let table: ReturnType<typeof routeTable>
  const changed = () => {
    routes = [...fromConfig, ...o.repo.list()]
    table = routeTable(routes)
  }
  changed()

  const find = (id: string): RouteView => {
    const r = routes.find((x) => x.id === id)
    if (r === undefined) throw new CortexError('not_found', `no route has id ${quoted(id)} (GET /admin/api/routes lists them)`)
    return r
  }
  const editable = (id: string): RouteView => {
    const r = find(id)
    if (r.origin === 'config') {
      throw new CortexError(
        'route_managed_by_config',
        `route "${r.name}" is declared in the config file: change it there and restart Cortex`,
      )
    }
    return r
  }

  /** The route checked as the config file's are, its model references turned into model names. */
  const checked = (draft: Draft, except: string | null): Draft => {
    const models = o.models()
    for (const [i, name] of [draft.name, ...draft.aliases].entries()) {
      const param = i === 0 ? 'name' : `aliases[${i - 1}]`
      const model = models.find((m) => m.name === name || m.aliases.includes(name))
      const route = routes.find((r) => r.id !== except && (r.name === name || r.aliases.includes(name)))
      if (model !== undefined || route !== undefined) {
        const owner = model !== undefined ? `model "${model.name}"` : `route "${route!.name}"`
        throw new CortexError(
          'name_taken',
          `"${name}" is already a name or alias of ${owner}; routes and models share one namespace`,
          { param },
        )
      }
    }
    const config = { ...draft, fallback: draft.fallback ?? undefined }
    const [problem] = routeProblems([config], models)
    if (problem !== undefined) {
      const param = displayPath(problem.path.replace(/^\/routes\/0/, ''))
      throw new CortexError('invalid_request', `invalid route: ${param}: ${problem.expected}`, { param })
    }
    const nameOf = (ref: string) => models.find((m) => m.name === ref || m.aliases.includes(ref))!.name
    return {
      ...draft,
      targets: draft.targets.map((t) => ({ ...t, model: nameOf(t.model) })),
      fallback: draft.fallback === null ? null : nameOf(draft.fallback),
    }
  }
  const storing = (name: string, write: () => RouteView): RouteView => {
    try {
      const view = write()
      changed()
      return view
    } catch (err) {
      if (err instanceof Error && /UNIQUE/.test(err.message)) {
        throw new CortexError('name_taken', `a route named ${quoted(name)} already exists`, { param: 'name' })
      }
      throw err
    }
  }

  return {
    table: { resolve: (name) => table.resolve(name), all: () => table.all() },
    list: () => routes,
    get: find,
    create(body) {
      const draft = checked(
        {
          name: body.name,
          aliases: body.aliases ?? [],
          targets: body.targets,
          fallback: body.fallback ?? null,
          ...(body.cache !== undefined && { cache: toCachePolicy(body.cache) }),
        },
        null,
      )
      return storing(draft.name, () => o.repo.create(draft))
    },
    update(id, patch) {
      const current = editable(id)
      const next = patch.cache === undefined ? current.cache : patch.cache === null ? undefined : toCachePolicy(patch.cache)
      const draft = checked(
        {
          name: patch.name ?? current.name,
          aliases: patch.aliases ?? current.aliases,
          targets: patch.targets ?? current.targets,
          fallback: patch.fallback === undefined ? current.fallback : patch.fallback,
          ...(next !== undefined && { cache: next }),
        },
        id,
      )
      return storing(draft.name, () => o.repo.replace(id, draft))
    },
    remove(id) {
      editable(id)
      o.repo.remove(id)
      changed()
    },
  }
}
