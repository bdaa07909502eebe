import { constants } from 'node:fs'
import { access, mkdir } from 'node:fs/promises'
import { isAbsolute } from 'node:path'
import type Docker from 'dockerode'
import type { Logger } from 'pino'
import { CortexError, type ModelDefinition } from '../../contract/index.js'
import { bindPort, containerPlan, planHash, type ContainerPlan, type ContainerPlanOptions } from '../backends/container.js'
import { diagnoseModelFile } from '../diagnose.js'
import { StartFailure, type Driver, type DriverHandle, type ExitInfo, type Health, type StartContext } from '../driver.js'
import { probeEngineHealth, probeModels, readLlamaContextLength } from '../health.js'
import { freePort } from '../process/os.js'
import { isConnectionError, statusOf, type DockerClient } from './client.js'
import { adoptablePort, createOptions, listOwn, removeContainer } from './containers.js'
import { diagnoseDockerError, diagnoseDockerUnavailable, diagnoseImageMissing } from './diagnose.js'
import type { Death, DeathWatch } from './events.js'
import type { ImageStore } from './images.js'
import { followLogs, type LogFollow } from './logs.js'

/** A dead container's log stream ends within moments; this bounds the wait when the daemon is wedged. */
const LOG_DRAIN_MS = 5000

export interface DockerDriverDeps {
  client: DockerClient
  deaths: DeathWatch
  images: ImageStore
  instance: string
  logger: Logger
  planOptions: ContainerPlanOptions
  /** Secrets for the container's environment (HF_TOKEN), read at each create; never labelled, hashed or logged. */
  secretEnv: () => Record<string, string>
  /** How to let go of each held container (stop following it); the runtime's close() runs what is left. */
  held: Set<() => void>
}

/** One docker-runtime model: adopts this instance's running container when its plan still matches, else creates one. */
export function createDockerDriver(def: ModelDefinition, deps: DockerDriverDeps): Driver {
  return {
    runningCheckMs: null,
    probe: def.engine === 'openai' ? probeOpenAiServer : probeEngineHealth,
    contextLength: def.engine === 'llamacpp' ? readLlamaContextLength : undefined,
    async start(ctx) {
      try {
        return await start(def, deps, ctx)
      } catch (err) {
        throw asStartFailure(def, deps.client, 'prepare the container', err)
      }
    },
  }
}

/** An image that serves the OpenAI API: ready when `/v1/models` answers; it was started without an API key. */
async function probeOpenAiServer(root: string, signal: AbortSignal): Promise<Health> {
  const h = await probeModels(`${root}/v1`, undefined, signal)
  return h.status === 'unauthorized' ? { status: 'down', reason: `HTTP ${h.httpStatus}` } : h
}

function asStartFailure(def: ModelDefinition, client: DockerClient, doing: string, err: unknown): StartFailure {
  if (err instanceof StartFailure) return err
  if (err instanceof CortexError && err.code === 'docker_unavailable')
    return new StartFailure(diagnoseDockerUnavailable(err.message))
  if (isConnectionError(err)) {
    client.failed(err)
    return new StartFailure(diagnoseDockerUnavailable(client.unavailableMessage(err)))
  }
  return new StartFailure(diagnoseDockerError(def, doing, err))
}

async function start(def: ModelDefinition, d: DockerDriverDeps, ctx: StartContext): Promise<DriverHandle> {
  if (!(await d.client.ensure())) throw new StartFailure(diagnoseDockerUnavailable(d.client.unavailableMessage()))
  if (def.source && isAbsolute(def.source)) {
    try {
      await access(def.source, constants.R_OK)
    } catch (err) {
      throw new StartFailure(diagnoseModelFile(def, (err as NodeJS.ErrnoException).code))
    }
  }
  const plan = containerPlan(def, d.planOptions)
  const hash = planHash(plan)
  const docker = d.client.docker
  // Subscribed before anything starts, so no death of a container of ours can go unseen.
  await d.deaths.connect()

  let adoptable: { id: string; port: number } | null = null
  for (const c of await listOwn(docker, d.instance, { modelId: def.id, replica: ctx.replica })) {
    const port = adoptablePort(c, hash)
    if (port !== null && !adoptable) adoptable = { id: c.Id, port }
    else await removeContainer(docker, c.Id)
  }
  if (adoptable) {
    const death = d.deaths.watch(adoptable.id)
    const container = docker.getContainer(adoptable.id)
    // It may have died (or been removed) between the listing and the watch.
    if (await isRunning(container)) {
      ctx.log(`[cortex] adopted running container ${adoptable.id.slice(0, 12)} (port ${adoptable.port})`)
      d.logger.info({ model: def.name, replica: ctx.replica, container: adoptable.id }, 'adopted engine container')
      return track(def, d, container, adoptable.port, death, Math.floor(Date.now() / 1000), ctx)
    }
    death.unwatch()
    await removeContainer(docker, adoptable.id)
  }

  await ensureImage(def, d, plan.image, ctx)
  await prepareMounts(plan)
  // Two attempts only when the published port (bridge networking) was taken between our probe and Docker's bind.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const who = { instance: d.instance, def, replica: ctx.replica, planHash: hash, port }
    let container: Docker.Container
    try {
      container = await docker.createContainer(createOptions(bindPort(plan, port), who, d.secretEnv()))
    } catch (err) {
      throw asStartFailure(def, d.client, 'create the container', err)
    }
    const death = d.deaths.watch(container.id)
    try {
      await container.start()
    } catch (err) {
      death.unwatch()
      await removeContainer(docker, container.id).catch((e: unknown) =>
        d.logger.warn({ err: e, container: container.id }, 'could not remove a container that failed to start'),
      )
      const failure = asStartFailure(def, d.client, 'start the container', err)
      if (failure.diagnosis.cause === 'port_in_use' && attempt === 1) continue
      throw failure
    }
    d.logger.info({ model: def.name, replica: ctx.replica, container: container.id, port }, 'engine container started')
    return track(def, d, container, port, death, 0, ctx)
  }
}

async function isRunning(container: Docker.Container): Promise<boolean> {
  try {
    return (await container.inspect()).State.Running
  } catch (err) {
    if (statusOf(err) === 404) return false
    throw err
  }
}

async function ensureImage(def: ModelDefinition, d: DockerDriverDeps, image: string, ctx: StartContext): Promise<void> {
  if (await d.images.has(image)) return
  ctx.log(`[cortex] image ${image} is not on this machine: pulling it`)
  try {
    await d.images.pull(image)
  } catch (err) {
    if (err instanceof CortexError && err.code !== 'docker_unavailable') {
      throw new StartFailure(diagnoseImageMissing(def, image, String(err.details?.reason ?? err.message)))
    }
    throw err
  }
  ctx.log(`[cortex] pulled ${image}`)
}

/** Docker refuses a bind mount whose source is missing; the writable ones (the HF cache) are Cortex's to create. */
async function prepareMounts(plan: ContainerPlan): Promise<void> {
  for (const m of plan.mounts) if (!m.readOnly) await mkdir(m.source, { recursive: true })
}

/**
 * The handle of a running container: its logs into `ctx.log`, its death from the events stream. After a death the
 * log stream is drained (so the diagnosis sees the last lines), then `exited` settles, then the container is removed.
 */
async function track(
  def: ModelDefinition,
  d: DockerDriverDeps,
  container: Docker.Container,
  port: number,
  death: Death,
  since: number,
  ctx: StartContext,
): Promise<DriverHandle> {
  const id = container.id
  const logs: LogFollow | null = await followLogs(container, since, ctx.log).catch((err: unknown) => {
    d.client.failed(err)
    d.logger.warn({ err, model: def.name, container: id }, 'could not follow the container logs')
    return null
  })
  const exited = death.died.then(async (code): Promise<ExitInfo> => {
    if (logs) await drained(logs.ended)
    return { code, signal: null }
  })
  const removed = exited.then(() =>
    removeContainer(d.client.docker, id).catch((err: unknown) => {
      d.client.failed(err)
      d.logger.warn({ err, model: def.name, container: id }, 'could not remove the engine container')
    }),
  )
  let detached = false
  const release = () => {
    death.unwatch()
    logs?.stop()
    d.held.delete(release)
  }
  d.held.add(release)
  void removed.then(() => d.held.delete(release))

  return {
    url: `http://127.0.0.1:${port}`,
    exited,
    async stop(graceMs) {
      if (detached) return
      try {
        await container.stop({ t: Math.ceil(graceMs / 1000) })
      } catch (err) {
        // 304: it had already stopped; 404: it is gone.
        if (statusOf(err) !== 304 && statusOf(err) !== 404) {
          d.client.failed(err)
          d.logger.warn({ err, model: def.name, container: id }, 'could not stop the engine container')
        }
      }
      // The die event normally settles the death; asking the daemon too means a missed event cannot hang a stop.
      try {
        const info = await container.inspect()
        // Still running means the stop failed: the forced removal that follows ends it.
        death.settle(info.State.Running ? null : info.State.ExitCode)
      } catch (err) {
        if (statusOf(err) !== 404)
          d.logger.warn({ err, model: def.name, container: id }, 'could not inspect the engine container')
        death.settle(null)
      }
      await removed
    },
    detach() {
      detached = true
      release()
      d.logger.info({ model: def.name, container: id }, 'left the engine container running')
    },
  }
}

function drained(ended: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, LOG_DRAIN_MS)
    timer.unref()
  })
  return Promise.race([ended, bound]).finally(() => clearTimeout(timer))
}
