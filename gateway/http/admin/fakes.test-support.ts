/** Test doubles for the admin API suites: in-memory model and image services, and an app that serves them. */
import { randomUUID } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import type { Logger } from 'pino'
import type {
  AdminEvent,
  DockerStatus,
  DryRunView,
  ImageView,
  ModelCreateBody,
  ModelPatchBody,
  ModelView,
  SwitchView,
  SystemSample,
  SystemSnapshot,
  UsageReportQuery,
} from '../../contract/index.js'
import type { CortexInfo } from '../../contract/console.js'
import { CortexError } from '../../contract/errors.js'
import { modelView } from '../../contract/admin.test-support.js'
import { createRecipeService, type RecipeService } from '../../services/recipes.js'
import { createServing } from '../../services/serving.js'
import { createSettings } from '../../services/settings.js'
import type { ImageService } from '../../engines/docker/types.js'
import type { ModelService } from '../../services/models.js'
import type { SystemMonitor } from '../../system/monitor.js'
import { memorySettingsRepo } from '../../store/settings.test-support.js'
import { buildApp } from '../app.js'
import { FakeRegistry, MemoryUsage, memoryLogger, noKeys, testConfig } from '../fakes.test-support.js'
import { memoryAccounts } from '../../store/memory.test-support.js'

export const TOKEN = 'ctx_admin_unit-test-token-0123456789'
export const auth = { authorization: `Bearer ${TOKEN}` }

/** Models in a map; `fromConfig` ones refuse edits with 409 as the real service does. Records every call. */
export class FakeModelService implements ModelService {
  readonly views = new Map<string, ModelView>()
  readonly calls: Array<[string, ...unknown[]]> = []
  readonly logLines = new Map<string, string[]>()
  private readonly logFollowers = new Map<string, Set<(line: string) => void>>()
  private readonly subscribers = new Set<(e: AdminEvent) => void>()
  /** Replaces start() when set, e.g. to fail or to wait for the test. */
  startImpl: ((id: string, wait: boolean) => Promise<ModelView>) | null = null

  constructor(views: ModelView[]) {
    for (const v of views) this.views.set(v.id, v)
  }

  list(): ModelView[] {
    return [...this.views.values()]
  }

  get(id: string): ModelView {
    const view = this.views.get(id)
    if (view === undefined) throw new CortexError('not_found', `no model with id "${id}"`)
    return view
  }

  async create(body: ModelCreateBody): Promise<ModelView> {
    this.calls.push(['create', body])
    const view = modelView({ id: `id-${body.name}`, name: body.name, engine: body.engine, runtime: body.runtime, origin: 'api' })
    this.views.set(view.id, view)
    return view
  }

  async update(id: string, patch: ModelPatchBody): Promise<ModelView> {
    this.calls.push(['update', id, patch])
    const current = this.editable(id)
    const view = { ...current, replicas: patch.replicas ?? current.replicas }
    this.views.set(id, view)
    return view
  }

  async remove(id: string): Promise<void> {
    this.calls.push(['remove', id])
    this.editable(id)
    this.views.delete(id)
  }

  async start(id: string, opts: { wait: boolean }): Promise<ModelView> {
    this.calls.push(['start', id, opts])
    if (this.startImpl) return this.startImpl(id, opts.wait)
    return this.withState(id, opts.wait ? 'running' : 'starting')
  }

  async stop(id: string): Promise<ModelView> {
    this.calls.push(['stop', id])
    return this.withState(id, 'stopped')
  }

  async switch(id: string): Promise<SwitchView> {
    this.calls.push(['switch', id])
    return { model: this.withState(id, 'starting'), stopped: [], keptPinned: [] }
  }

  async setPinned(id: string, pinned: boolean): Promise<ModelView> {
    this.calls.push(['setPinned', id, pinned])
    const view = { ...this.get(id), pinned }
    this.views.set(id, view)
    return view
  }

  async dryRun(id: string): Promise<DryRunView> {
    this.calls.push(['dryRun', id])
    const view = this.get(id)
    return { id, name: view.name, plan: null, gpus: [], estimate: null, fits: null, wouldEvict: [], warnings: [] }
  }

  async dryRunDraft(body: ModelCreateBody): Promise<DryRunView> {
    this.calls.push(['dryRunDraft', body.name])
    return { id: 'draft', name: body.name, plan: null, gpus: [], estimate: null, fits: null, wouldEvict: [], warnings: [] }
  }

  logs(id: string): string[] {
    this.get(id)
    return this.logLines.get(id) ?? []
  }

  followLogs(id: string, onLine: (line: string) => void): () => void {
    const followers = this.logFollowers.get(id) ?? new Set()
    this.logFollowers.set(id, followers)
    followers.add(onLine)
    return () => followers.delete(onLine)
  }

  subscribe(fn: (e: AdminEvent) => void): () => void {
    this.subscribers.add(fn)
    return () => this.subscribers.delete(fn)
  }

  snapshot(): Extract<AdminEvent, { type: 'snapshot' }> {
    return { type: 'snapshot', models: this.list(), docker: { available: true, message: null } }
  }

  /** As an engine writing a line: logs() gains it and followers get it. */
  pushLog(id: string, line: string): void {
    this.logLines.set(id, [...(this.logLines.get(id) ?? []), line])
    for (const fn of this.logFollowers.get(id) ?? []) fn(line)
  }

  emit(e: AdminEvent): void {
    for (const fn of this.subscribers) fn(e)
  }

  followersOf(id: string): number {
    return this.logFollowers.get(id)?.size ?? 0
  }

  get subscriberCount(): number {
    return this.subscribers.size
  }

  private editable(id: string): ModelView {
    const view = this.get(id)
    if (view.origin === 'config') {
      throw new CortexError('model_managed_by_config', `model "${view.name}" is declared in the config file; edit it there`)
    }
    return view
  }

  private withState(id: string, state: ModelView['status']['state']): ModelView {
    const view = this.get(id)
    const next = { ...view, status: { ...view.status, state } }
    this.views.set(id, next)
    return next
  }
}

/** A Docker daemon's images; `available = false` plays a daemon that is down. Pulls wait until the test settles them. */
export class FakeImageService implements ImageService {
  available = true
  readonly images: ImageView[] = [{ id: 'sha256:abc', tags: ['ghcr.io/ggml-org/llama.cpp:server'], sizeBytes: 123, createdAt: 1 }]
  readonly loaded: string[] = []
  readonly pulls: Array<{ image: string; finish: () => void; fail: (err: Error) => void }> = []

  status(): DockerStatus {
    return this.available
      ? { available: true, message: null }
      : {
          available: false,
          message: 'Docker does not answer on /var/run/docker.sock; start it with: sudo systemctl start docker',
        }
  }

  async list(): Promise<ImageView[]> {
    this.ensureUp()
    return this.images
  }

  async load(path: string): Promise<string[]> {
    this.ensureUp()
    if (!path.endsWith('.tar')) throw new CortexError('invalid_request', `${path} is not a docker save tar`, { param: 'path' })
    this.loaded.push(path)
    return ['cortex-test/llama:1']
  }

  pull(image: string): Promise<void> {
    return new Promise((finish, fail) => this.pulls.push({ image, finish, fail }))
  }

  private ensureUp(): void {
    const status = this.status()
    if (!status.available) throw new CortexError('docker_unavailable', status.message!, { retryAfterSeconds: 10 })
  }
}

/** A machine with one H100 serving model `id-api` (pid 4756) and one process of something else. */
export function systemSample(at: number, utilizationPercent: number): SystemSample {
  const GiB = 1024 ** 3
  return {
    at,
    gpus: [
      {
        index: 0,
        uuid: 'GPU-5cc11802-2925-d306-8cb2-48ec5728120e',
        name: 'NVIDIA H100 80GB HBM3',
        memoryTotalBytes: 80 * GiB,
        memoryUsedBytes: 3 * GiB,
        memoryFreeBytes: 77 * GiB,
        utilizationPercent,
        temperatureC: 40,
        powerDrawW: 129.44,
        powerLimitW: 700,
        processes: [
          { pid: 4756, processName: '/usr/local/bin/llama-server', usedBytes: 2 * GiB, model: { id: 'id-api', name: 'api' } },
          { pid: 900, processName: 'python3', usedBytes: GiB, model: null },
        ],
      },
    ],
    host: {
      cpuLoadPercent: 12.5,
      memory: { totalBytes: 64 * GiB, usedBytes: 10 * GiB, availableBytes: 54 * GiB },
      disks: [
        { mount: '/', fs: '/dev/nvme0n1p2', type: 'ext4', sizeBytes: 900 * GiB, usedBytes: 300 * GiB, availableBytes: 600 * GiB },
      ],
    },
    error: null,
  }
}

/** A monitor whose samples the test sets; `emit` plays a tick of the sampling loop. */
export class FakeSystemMonitor implements SystemMonitor {
  samples: SystemSample[] = [systemSample(1_000, 10), systemSample(3_000, 45)]
  readonly hardware: SystemSnapshot = {
    cpu: { model: 'AMD EPYC 9654', cores: 192, physicalCores: 96 },
    memoryTotalBytes: 64 * 1024 ** 3,
    gpus: [
      {
        index: 0,
        uuid: 'GPU-5cc11802-2925-d306-8cb2-48ec5728120e',
        name: 'NVIDIA H100 80GB HBM3',
        memoryTotalBytes: 80 * 1024 ** 3,
      },
    ],
  }
  private readonly subscribers = new Set<(sample: SystemSample) => void>()
  readonly cortexInfo: CortexInfo = {
    version: '0.1.0',
    dataDir: '/home/ada/.local/share/cortex',
    llamaServer: { found: true, path: '/usr/local/bin/llama-server', version: '7123 (a1b2c3d)', howToGet: 'install llama.cpp' },
    docker: { available: true, message: null },
  }

  async cortex(): Promise<CortexInfo> {
    return this.cortexInfo
  }

  async snapshot(): Promise<SystemSnapshot> {
    return this.hardware
  }

  async latest(): Promise<SystemSample> {
    return this.samples.at(-1)!
  }

  history(): SystemSample[] {
    return this.samples
  }

  subscribe(fn: (sample: SystemSample) => void): () => void {
    this.subscribers.add(fn)
    return () => this.subscribers.delete(fn)
  }

  emit(sample: SystemSample): void {
    this.samples.push(sample)
    for (const fn of this.subscribers) fn(sample)
  }

  get subscriberCount(): number {
    return this.subscribers.size
  }
}

/**
 * buildApp with the admin API over the fakes; `lines` holds everything logged. Recipes are the real service over the
 * shipped ones, with an import folder that only an import creates (suites that import pass their own).
 */
export function adminApp(
  views: ModelView[] = [modelView({ id: 'id-cfg', name: 'cfg' }), modelView({ id: 'id-api', name: 'api', origin: 'api' })],
  recipes?: RecipeService,
) {
  const { logger, lines } = memoryLogger()
  const admin = fakeAdmin(logger, new FakeModelService(views), recipes)
  const app = buildApp({
    config: testConfig(),
    registry: new FakeRegistry([]),
    usage: new MemoryUsage(),
    logger,
    ...noKeys(),
    admin,
    serving: admin.serving,
  })
  return { app, lines, ...admin }
}

/** The admin API's options: these models, fakes for the rest, real accounts in an in-memory database. */
export function fakeAdmin(logger: Logger, models: FakeModelService, recipes?: RecipeService) {
  const accounts = memoryAccounts()
  return {
    token: TOKEN,
    accounts,
    usage: (query: UsageReportQuery) => accounts.usageReport(query),
    models,
    images: new FakeImageService(),
    settings: createSettings(memorySettingsRepo()),
    recipes: recipes ?? createRecipeService({ importDir: path.join(os.tmpdir(), `cortex-no-imports-${randomUUID()}`), logger }),
    system: new FakeSystemMonitor(),
    serving: createServing(),
  }
}
