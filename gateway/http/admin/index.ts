import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify'
import { CortexError } from '../../contract/errors.js'
import type { KeyRepo, OrgRepo, UserRepo } from '../../auth/types.js'
import type { AdminEvent, UsageReport, UsageReportQuery } from '../../contract/index.js'
import type { ImageService } from '../../engines/docker/types.js'
import type { ModelService } from '../../services/models.js'
import type { RecipeService } from '../../services/recipes.js'
import type { SettingsService } from '../../services/settings.js'
import type { SystemMonitor } from '../../system/monitor.js'
import { adminAuth } from './auth.js'
import { imageRoutes } from './images.js'
import { inspectRoutes } from './inspect.js'
import { keyRoutes } from './keys.js'
import { modelRoutes } from './models.js'
import { recipeRoutes } from './recipes.js'
import { settingsRoutes } from './settings.js'
import { SseStreams } from './sse.js'
import { systemRoutes } from './system.js'
import { usageRoutes } from './usage.js'
import { validatorCompiler } from './validation.js'

export interface AdminOptions {
  /** What `Authorization: Bearer …` must carry (store/admin-token.ts). */
  token: string
  /** API keys, organizations and users; `admin:read` keys may read usage and model states. */
  accounts: { keys: KeyRepo; orgs: OrgRepo; users: UserRepo }
  usage: (query: UsageReportQuery) => UsageReport
  models: ModelService
  images: ImageService
  settings: SettingsService
  recipes: RecipeService
  system: SystemMonitor
}

export type AdminApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>

/** The admin API, registered under `/admin/api`: every route, including unknown ones, needs the admin token. */
export async function adminRoutes(fastify: FastifyInstance, opts: AdminOptions) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)
  // Every admin request gets its caller from the hook below before any route reads it.
  app.decorateRequest('adminCaller', null as never)
  app.addHook('onRequest', adminAuth({ token: opts.token, keys: opts.accounts.keys }))
  app.setNotFoundHandler((req) => {
    throw new CortexError('not_found', `no admin API route for ${req.method} ${req.url.split('?', 1)[0]}`)
  })

  const streams = new SseStreams()
  app.addHook('preClose', (done) => {
    streams.endAll()
    done()
  })

  modelRoutes(app, opts.models, streams, opts.recipes)
  imageRoutes(app, opts.images)
  settingsRoutes(app, opts.settings)
  recipeRoutes(app, opts.recipes, opts.models)
  systemRoutes(app, opts.system)
  inspectRoutes(app, opts.models)
  keyRoutes(app, opts.accounts)
  usageRoutes(app, { report: opts.usage, orgs: opts.accounts.orgs })

  // A snapshot first, then every change; both are synchronous, so no change falls between them. Subscribing to the
  // system monitor is what makes it sample (every interval, while any stream is open).
  app.get('/events', { exposeHeadRoute: false }, (_req, reply) => {
    const snapshot = opts.models.snapshot()
    const stream = streams.start(reply)
    stream.event(snapshot.type, snapshot)
    stream.onClose(opts.models.subscribe((e) => stream.event(e.type, e)))
    stream.onClose(
      opts.system.subscribe((sample) => stream.event('gpu_sample', { type: 'gpu_sample', sample } satisfies AdminEvent)),
    )
  })
}
