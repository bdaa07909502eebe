import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, RawServerDefault } from 'fastify'
import { CortexError } from '../../contract/errors.js'
import type { DeletableUserRepo, KeyRepo, OrgRepo } from '../../auth/types.js'
import type { AdminEvent, MemberEvent, UsageReport, UsageReportQuery } from '../../contract/index.js'
import type { ChatService } from '../../chat/service.js'
import type { ImageService } from '../../engines/docker/types.js'
import type { Scheduler } from '../../engines/scheduler.js'
import type { ModelService } from '../../services/models.js'
import type { RecipeService } from '../../services/recipes.js'
import type { RouteService } from '../../services/routes.js'
import type { Serving } from '../../services/serving.js'
import type { SettingsService } from '../../services/settings.js'
import type { SystemMonitor } from '../../system/monitor.js'
import { adminAuth } from './auth.js'
import { chatRoutes } from './chats.js'
import { imageRoutes } from './images.js'
import { inspectRoutes } from './inspect.js'
import { keyRoutes } from './keys.js'
import { modelRoutes, stateView } from './models.js'
import { recipeRoutes } from './recipes.js'
import { routeRoutes } from './routes.js'
import { servingRoutes } from './serving.js'
import { settingsRoutes } from './settings.js'
import { sessionRoutes, type ConsoleSessions } from './session.js'
import { SseStreams } from './sse.js'
import { systemRoutes } from './system.js'
import { usageRoutes } from './usage.js'
import { validatorCompiler } from './validation.js'

export interface AdminOptions {
  /** What `Authorization: Bearer …` must carry (store/admin-token.ts). */
  token: string
  /** API keys, organizations and users; `admin:read` keys may read usage and model states. */
  accounts: { keys: KeyRepo; orgs: OrgRepo; users: DeletableUserRepo }
  usage: (query: UsageReportQuery) => UsageReport
  models: ModelService
  images: ImageService
  settings: SettingsService
  recipes: RecipeService
  system: SystemMonitor
  /** Pause and resume of `/v1` inference. */
  serving: Serving
  /** Schedule edges for /events; none without it. */
  schedules?: Pick<Scheduler, 'subscribe'>
  /** Virtual models on /routes; not served without it. */
  routes?: RouteService
  /** The chat playground's conversations (gateway/chat); not served without it. */
  chats?: ChatService
  /** Console sign-in; without it the admin API takes only the token and admin:read keys. */
  sessions?: ConsoleSessions & { publicUrl: (req: FastifyRequest) => string }
}

export type AdminApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>

/** The admin API, registered under `/admin/api`: every route, including unknown ones, needs the admin token. */
export async function adminRoutes(fastify: FastifyInstance, opts: AdminOptions) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)
  // Every admin request gets its caller from the hook below before any route reads it.
  app.decorateRequest('adminCaller', null as never)
  app.decorateRequest('session', null)
  app.addHook('onRequest', adminAuth({ token: opts.token, keys: opts.accounts.keys, sessions: opts.sessions }))
  app.setNotFoundHandler((req) => {
    throw new CortexError('not_found', `no admin API route for ${req.method} ${req.url.split('?', 1)[0]}`)
  })

  const streams = new SseStreams()
  app.addHook('preClose', (done) => {
    streams.endAll()
    done()
  })
  // Answers in flight are kept (cut off) before the store closes; they are no HTTP request that close() waits for.
  const { chats } = opts
  if (chats) app.addHook('onClose', () => chats.close())

  modelRoutes(app, opts.models, streams, opts.recipes)
  imageRoutes(app, opts.images)
  settingsRoutes(app, opts.settings)
  servingRoutes(app, opts.serving)
  recipeRoutes(app, opts.recipes, opts.models)
  systemRoutes(app, opts.system)
  inspectRoutes(app, opts.models)
  keyRoutes(app, { ...opts.accounts, sessions: opts.sessions?.service, chats: opts.chats })
  usageRoutes(app, { report: opts.usage, orgs: opts.accounts.orgs })
  if (opts.routes) routeRoutes(app, opts.routes)
  if (chats) chatRoutes(app, chats, streams)
  if (opts.sessions) sessionRoutes(app, opts.sessions, opts.sessions.publicUrl)

  // A snapshot first, then every change; both are synchronous, so no change falls between them. Subscribing to the
  // system monitor is what makes it sample (every interval, while any stream is open).
  app.get('/events', { exposeHeadRoute: false }, (req, reply) => {
    const whole = req.adminCaller.kind === 'admin'
    const snapshot = opts.models.snapshot()
    const stream = streams.start(reply)
    const send = (e: AdminEvent) => {
      const out = whole ? e : forMember(e)
      if (out !== null) stream.event(out.type, out)
    }
    send(snapshot)
    stream.onClose(opts.models.subscribe(send))
    if (opts.schedules) stream.onClose(opts.schedules.subscribe(send))
    if (whole)
      stream.onClose(
        opts.system.subscribe((sample) => stream.event('gpu_sample', { type: 'gpu_sample', sample } satisfies AdminEvent)),
      )
  })
}

/**
 * What a member's events stream carries: model names and states, never a definition, a diagnosis (it holds log
 * lines), pull progress or GPU samples (process lists).
 */
function forMember(e: AdminEvent): MemberEvent | null {
  switch (e.type) {
    case 'snapshot':
      return { type: 'snapshot', models: e.models.map(stateView), docker: e.docker }
    case 'model_updated':
      return { type: 'model_updated', model: stateView(e.model) }
    case 'model_state':
      return { type: 'model_state', id: e.id, name: e.name, state: e.state, contextLength: e.contextLength }
    case 'model_removed':
    case 'docker':
    case 'schedule':
      return e
    default:
      return null
  }
}
