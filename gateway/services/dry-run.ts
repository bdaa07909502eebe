import { constants } from 'node:fs'
import { access } from 'node:fs/promises'
import type { DryRunView, ModelDefinition } from '../contract/index.js'
import type { ContainerPlan } from '../engines/backends/container.js'
import { llamacppPlan } from '../engines/backends/llamacpp.js'
import { vllmPlan } from '../engines/backends/vllm.js'
import type { PlacementPreview } from '../engines/placement.js'
import { gib } from '../models/need.js'

export interface DryRunDeps {
  /** `engines.llamaServer`, else `llama-server` on PATH. */
  llamaServer: string | null
  containerPlan(def: ModelDefinition): ContainerPlan
  docker: { available: boolean; message: string | null }
  preview(def: ModelDefinition): Promise<PlacementPreview | null>
}

/** What starting `def` would do: the engine's command or container, its GPU memory, evictions and every warning. */
export async function dryRun(def: ModelDefinition, deps: DryRunDeps): Promise<DryRunView> {
  const warnings: string[] = []
  let plan: DryRunView['plan'] = null
  try {
    plan = describePlan(def, deps)
  } catch (err) {
    warnings.push((err as Error).message)
  }
  if (def.engine === 'llamacpp' && def.runtime !== 'remote' && def.source) {
    await access(def.source, constants.R_OK).catch((err: NodeJS.ErrnoException) =>
      warnings.push(`model file ${def.source} cannot be read (${err.code}): check the path`),
    )
  }
  if (def.runtime === 'docker' && !deps.docker.available) warnings.push(deps.docker.message ?? 'Docker is not available')

  let preview: PlacementPreview | null = null
  try {
    preview = await deps.preview(def)
  } catch (err) {
    warnings.push(`could not estimate GPU memory: ${(err as Error).message}`)
  }
  const need = preview?.need
  const placement = preview?.plan
  if (need) warnings.push(...need.warnings)
  if (placement && !placement.fits) {
    for (const s of placement.shortfalls) {
      warnings.push(`needs about ${gib(s.needBytes)} GiB on GPU ${s.gpu}, ${gib(Math.max(0, s.freeBytes))} GiB would be free`)
    }
  }
  return {
    id: def.id,
    name: def.name,
    plan,
    gpus: (preview?.gpus ?? [])
      .filter((g) => need?.perGpu.has(g.index))
      .map((g) => ({
        index: g.index,
        name: g.name,
        totalBytes: g.memoryTotalBytes,
        freeBytes: g.memoryFreeBytes,
        needBytes: need!.perGpu.get(g.index)!,
      })),
    estimate: need?.estimate ? Object.values(need.estimate)[0] : null,
    fits: placement ? placement.fits : null,
    wouldEvict: placement?.fits ? placement.evict.map((r) => r.name) : [],
    warnings,
  }
}

function describePlan(def: ModelDefinition, deps: DryRunDeps): DryRunView['plan'] {
  if (def.runtime === 'remote') return { kind: 'remote', baseUrls: def.baseUrls }
  if (def.runtime === 'docker') {
    const { image, cmd, env, mounts, network, gpus } = deps.containerPlan(def)
    return { kind: 'container', image, cmd, env, mounts, network, gpus }
  }
  // NaN stands in for the port picked at start, wherever the plan puts it (--port and the user's ${PORT}).
  const p = def.engine === 'llamacpp' ? llamacppPlan(def, NaN, deps.llamaServer ?? 'llama-server') : vllmPlan(def, NaN, 'vllm')
  return { kind: 'process', command: p.command, args: p.args.map((a) => a.replaceAll('NaN', '${PORT}')), env: p.env }
}
