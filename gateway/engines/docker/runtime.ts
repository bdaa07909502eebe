import { homedir } from 'node:os'
import { join } from 'node:path'
import type { ModelDefinition } from '../../contract/index.js'
import { containerPlan, planHash } from '../backends/container.js'
import { DockerClient, isConnectionError } from './client.js'
import { adoptablePort, LABELS, listOwn, removeContainer } from './containers.js'
import { createDockerDriver, type DockerDriverDeps } from './driver.js'
import { modelOfContainer } from './attribution.js'
import { DeathWatch } from './events.js'
import { ImageStore } from './images.js'
import type { DockerRuntime, DockerRuntimeOptions, PullProgress } from './types.js'

/** Connects to the daemon in `opts.dockerHost` (or the default socket) and runs docker-runtime models there. */
export function createDockerRuntime(opts: DockerRuntimeOptions): DockerRuntime {
  const { instance, logger } = opts
  const pullListeners = new Set<(p: PullProgress) => void>()
  // Each time the daemon (re)appears, the events stream is resumed and the held containers swept.
  const client: DockerClient = new DockerClient(opts.dockerHost, opts.reconnectMs ?? 5000, logger, () => deaths.resume())
  const deaths = new DeathWatch(client, instance, logger)
  const images = new ImageStore(client, (p) => pullListeners.forEach((fn) => fn(p)))
  const deps: DockerDriverDeps = {
    client,
    deaths,
    images,
    instance,
    logger,
    planOptions: { hasGpus: opts.hasGpus, hfCache: opts.hfCache ?? join(homedir(), '.cache', 'huggingface') },
    secretEnv: opts.secretEnv ?? (() => ({})),
    held: new Set(),
  }
  void client.check()

  /** The plan hash a definition's containers must carry, or null when no plan can be made of it. */
  const hashOf = (def: ModelDefinition): string | null => {
    try {
      return planHash(containerPlan(def, deps.planOptions))
    } catch (err) {
      logger.warn({ err, model: def.name }, 'no container plan for this model')
      return null
    }
  }

  return {
    driver: (def) => createDockerDriver(def, deps),
    plan: (def) => containerPlan(def, deps.planOptions),
    modelOfContainer: modelOfContainer(client, instance),
    status: () => client.status(),
    onStatus: (fn) => client.subscribe(fn),
    onPullProgress(fn) {
      pullListeners.add(fn)
      return () => pullListeners.delete(fn)
    },
    list: () => images.list(),
    load: (path) => images.load(path),
    pull: (image) => images.pull(image),

    async reconcile(defs) {
      const byId = new Map(defs.filter((d) => d.runtime === 'docker').map((d) => [d.id, d]))
      if (!(await client.ensure())) {
        // Only worth a warning to someone who has Docker models; everyone else may simply not run Docker.
        const level = byId.size > 0 ? 'warn' : 'debug'
        logger[level]({ docker: client.address }, 'Docker is unavailable: its containers are reconciled at their first start')
        return []
      }
      const hashes = new Map([...byId.values()].map((d) => [d.id, hashOf(d)]))
      const kept = new Map<string, Set<number>>()
      const containers = await listOwn(client.docker, instance).catch((err: unknown) => {
        if (isConnectionError(err)) client.failed(err)
        logger.warn({ err }, 'could not list the engine containers: none adopted')
        return null
      })
      if (!containers) return []
      // A container is kept when it is the first running one with its model's current plan for a replica that
      // model still has; everything else of this instance goes.
      const claim = (c: (typeof containers)[number]): boolean => {
        const def = byId.get(c.Labels[LABELS.model] ?? '')
        const hash = def && hashes.get(def.id)
        const replica = Number(c.Labels[LABELS.replica])
        if (!def || !hash || !Number.isInteger(replica) || replica < 0 || replica >= def.replicas) return false
        const taken = kept.get(def.id) ?? new Set<number>()
        if (taken.has(replica) || adoptablePort(c, hash) === null) return false
        kept.set(def.id, taken.add(replica))
        return true
      }
      for (const c of containers) {
        if (claim(c)) continue
        try {
          await removeContainer(client.docker, c.Id)
          logger.info({ container: c.Id, model: c.Labels[LABELS.model] }, 'removed a stale engine container')
        } catch (err) {
          if (isConnectionError(err)) client.failed(err)
          logger.warn({ err, container: c.Id }, 'could not remove a stale engine container')
        }
      }
      return [...kept.keys()]
    },

    async close() {
      for (const release of [...deps.held]) release()
      deaths.close()
      client.close()
      pullListeners.clear()
    },
  }
}
