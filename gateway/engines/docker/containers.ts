import type Docker from 'dockerode'
import type { ModelDefinition } from '../../contract/index.js'
import { deviceRequests, type ContainerPlan } from '../backends/container.js'
import { statusOf } from './client.js'

/** Identity of Cortex's containers (ARCHITECTURE.md "The engine lifecycle"): found by these, never by remembered ids. */
export const LABELS = {
  managed: 'ai.cortex.managed',
  instance: 'ai.cortex.instance',
  model: 'ai.cortex.model',
  replica: 'ai.cortex.replica',
  planHash: 'ai.cortex.plan-hash',
  port: 'ai.cortex.port',
} as const

export interface ContainerIdentity {
  instance: string
  def: ModelDefinition
  replica: number
  planHash: string
  port: number
}

/** Docker names allow `[a-zA-Z0-9][a-zA-Z0-9_.-]*`; model names may hold `/` and `:`. For people reading `docker ps`. */
export function containerName(instance: string, modelName: string, replica: number): string {
  const clean = (s: string) => s.replace(/[^a-zA-Z0-9_.-]+/g, '-')
  return `cortex-${clean(instance)}-${clean(modelName)}-${replica}`
}

/**
 * `docker create` for a plan whose port is bound. `secretEnv` (HF_TOKEN and the like) is added here, after the
 * plan was hashed and labelled, so it is never part of either.
 */
export function createOptions(
  plan: ContainerPlan,
  who: ContainerIdentity,
  secretEnv: Record<string, string>,
): Docker.ContainerCreateOptions {
  const port = `${who.port}/tcp`
  const bridge = plan.network === 'bridge'
  return {
    name: containerName(who.instance, who.def.name, who.replica),
    Image: plan.image,
    Cmd: plan.cmd,
    Env: Object.entries({ ...plan.env, ...secretEnv }).map(([k, v]) => `${k}=${v}`),
    Labels: {
      [LABELS.managed]: 'true',
      [LABELS.instance]: who.instance,
      [LABELS.model]: who.def.id,
      [LABELS.replica]: String(who.replica),
      [LABELS.planHash]: who.planHash,
      [LABELS.port]: String(who.port),
    },
    ExposedPorts: bridge ? { [port]: {} } : undefined,
    HostConfig: {
      NetworkMode: plan.network,
      // Published on loopback only: the gateway is the one door to the engine.
      PortBindings: bridge ? { [port]: [{ HostIp: '127.0.0.1', HostPort: String(who.port) }] } : undefined,
      Mounts: plan.mounts.map((m) => ({ Type: 'bind' as const, Source: m.source, Target: m.target, ReadOnly: m.readOnly })),
      DeviceRequests: deviceRequests(plan.gpus),
      IpcMode: plan.ipcHost ? 'host' : undefined,
    },
  }
}

/** The port of a container that can be adopted for a plan with hash `planHash` (running, same plan), else null. */
export function adoptablePort(c: Docker.ContainerInfo, planHash: string): number | null {
  const port = Number(c.Labels[LABELS.port])
  const fits = c.State === 'running' && c.Labels[LABELS.planHash] === planHash && Number.isInteger(port) && port > 0
  return fits ? port : null
}

/** This instance's containers (all states), optionally of one model and replica. */
export function listOwn(
  docker: Docker,
  instance: string,
  only?: { modelId: string; replica: number },
): Promise<Docker.ContainerInfo[]> {
  const label = [`${LABELS.managed}=true`, `${LABELS.instance}=${instance}`]
  if (only) label.push(`${LABELS.model}=${only.modelId}`, `${LABELS.replica}=${only.replica}`)
  return docker.listContainers({ all: true, filters: { label } })
}

/** Removes a container whatever its state; one already gone (404) or being removed (409) counts as removed. */
export async function removeContainer(docker: Docker, id: string): Promise<void> {
  try {
    await docker.getContainer(id).remove({ force: true })
  } catch (err) {
    const status = statusOf(err)
    if (status !== 404 && status !== 409) throw err
  }
}
