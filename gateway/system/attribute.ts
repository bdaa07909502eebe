import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { ModelRef, ModelStatus } from '../contract/index.js'
import type { GpuProcess } from './nvidia-smi.js'

/** Which Cortex model each GPU process serves, by pid; a pid left out serves none. */
export type Attribute = (processes: GpuProcess[]) => Promise<Map<number, ModelRef>>

export interface AttributionOptions {
  /** The engine manager's statuses: replicas of process engines carry their pid. */
  statuses: () => ModelStatus[]
  /** The model id of one of this instance's containers, else null (engines/docker/attribution.ts). Unset: no Docker. */
  modelOfContainer?: (containerId: string) => Promise<string | null>
  /** Where procfs is mounted (default /proc); tests pass a folder of made-up entries. */
  procRoot?: string
}

/**
 * How far up from a GPU process to look for an engine's pid. llama-server holds the GPU itself; vLLM's GPU memory
 * is held by its engine-core and worker processes, children (or grandchildren with tensor parallelism) of `vllm serve`.
 */
const MAX_ANCESTORS = 4

/**
 * Attributes GPU processes to models: a process engine's replica pid or one of its descendants; else, for Docker
 * engines, the container named in the process's cgroup, whose `ai.cortex.model` label names the model. nvidia-smi
 * gives host pids, and containers' processes descend from containerd's shim, never from an engine's pid.
 */
export function createAttribution(opts: AttributionOptions): Attribute {
  const proc = opts.procRoot ?? '/proc'
  // null: the process is gone (it ended since nvidia-smi listed it), or there is no procfs (not Linux).
  const read = async (pid: number, file: string): Promise<string | null> => {
    try {
      return await readFile(path.join(proc, String(pid), file), 'utf8')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES') return null
      throw err
    }
  }

  return async (processes) => {
    const models = new Map<string, ModelRef>()
    const byPid = new Map<number, ModelRef>()
    for (const s of opts.statuses()) {
      const ref = { id: s.id, name: s.name }
      models.set(s.id, ref)
      for (const r of s.replicas) if (r.pid !== undefined) byPid.set(r.pid, ref)
    }

    const viaAncestors = async (pid: number): Promise<ModelRef | null> => {
      let at: number | null = pid
      for (let step = 0; at !== null && at > 1; step++) {
        const model = byPid.get(at)
        if (model) return model
        if (step === MAX_ANCESTORS) break
        const stat = await read(at, 'stat')
        at = stat === null ? null : parentPid(stat)
      }
      return null
    }

    const viaContainer = async (pid: number): Promise<ModelRef | null> => {
      if (!opts.modelOfContainer) return null
      const cgroup = await read(pid, 'cgroup')
      const container = cgroup === null ? null : containerIdOf(cgroup)
      if (container === null) return null
      const id = await opts.modelOfContainer(container)
      return (id !== null && models.get(id)) || null
    }

    const found = new Map<number, ModelRef>()
    await Promise.all(
      processes.map(async ({ pid }) => {
        const model = (await viaAncestors(pid)) ?? (await viaContainer(pid))
        if (model) found.set(pid, model)
      }),
    )
    return found
  }
}

/** The parent pid in `/proc/<pid>/stat`: `pid (comm) state ppid …`, where comm may hold spaces and parentheses. */
export function parentPid(stat: string): number | null {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ppid = Number(fields[1])
  return Number.isInteger(ppid) && ppid > 0 ? ppid : null
}

/**
 * The Docker container a process runs in, from `/proc/<pid>/cgroup`: `0::/system.slice/docker-<id>.scope` (cgroup v2,
 * systemd driver), `0::/docker/<id>` (cgroupfs driver), `N:memory:/docker/<id>` (cgroup v1). The last id wins: with
 * Docker in Docker the innermost container is the one whose labels Cortex set.
 */
export function containerIdOf(cgroup: string): string | null {
  const ids = [...cgroup.matchAll(/docker[-/]([0-9a-f]{64})/g)].map((m) => m[1]!)
  return ids.at(-1) ?? null
}
