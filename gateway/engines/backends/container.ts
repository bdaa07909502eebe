import { createHash } from 'node:crypto'
import { posix } from 'node:path'
import type { ModelDefinition } from '../../contract/index.js'
import { vllmArgs } from '../../models/tensor-parallel.js'

export interface ContainerMount {
  source: string
  target: string
  readOnly: boolean
}

/**
 * What a docker-runtime engine is, before a port is chosen: `cmd` holds the literal `${PORT}` where the port goes,
 * so the plan (and its hash, the `ai.cortex.plan-hash` label) stays the same from one start to the next. Secrets
 * such as HF_TOKEN are not part of it: they are added at create time and never reach labels, hash or logs.
 */
export interface ContainerPlan {
  image: string
  /** Arguments after the image's ENTRYPOINT. */
  cmd: string[]
  env: Record<string, string>
  mounts: ContainerMount[]
  /** host: the engine binds 127.0.0.1 on the host; bridge: it binds 0.0.0.0 inside and the port is published on 127.0.0.1. */
  network: 'host' | 'bridge'
  /** Every GPU, these device ids (indexes or UUIDs), or none. */
  gpus: 'all' | 'none' | string[]
  /** vLLM's workers share tensors through /dev/shm, which Docker caps at 64 MiB unless the host's IPC is used. */
  ipcHost: boolean
  /** Readiness probe on the engine's root; never generates tokens. */
  healthPath: '/health' | '/v1/models'
}

export interface ContainerPlanOptions {
  /** Whether this machine has NVIDIA GPUs: without them `gpus: all` means the CPU. */
  hasGpus: boolean
  /** The host's Hugging Face cache, shared with vLLM containers so weights are downloaded once. */
  hfCache: string
}

/** A GPU request in the shape of Docker's `HostConfig.DeviceRequests`. */
export interface DeviceRequest {
  Count?: number
  DeviceIDs?: string[]
  Capabilities: string[][]
}

export const PORT_PLACEHOLDER = '${PORT}'
const LLAMACPP_IMAGE = 'ghcr.io/ggml-org/llama.cpp'
const VLLM_IMAGE = 'vllm/vllm-openai:latest'
const HF_CACHE_IN_CONTAINER = '/root/.cache/huggingface'

/** The container of a docker-runtime model. Pure: the caller supplies what it knows about the machine. */
export function containerPlan(def: ModelDefinition, opts: ContainerPlanOptions): ContainerPlan {
  const network = def.network ?? 'host'
  const gpus = planGpus(def.gpus, opts.hasGpus)
  // With host networking the engine shares the host's interfaces, so it must bind loopback itself; behind a bridge
  // only the published 127.0.0.1 port reaches it.
  const bind = network === 'host' ? '127.0.0.1' : '0.0.0.0'
  const base = { env: { ...def.env }, network, gpus }

  if (def.engine === 'llamacpp') {
    if (!def.source) throw new Error(`model "${def.name}": llamacpp needs a source GGUF path`)
    const target = `/models/${posix.basename(def.source)}`
    return {
      ...base,
      image: def.image ?? `${LLAMACPP_IMAGE}:${gpus === 'none' ? 'server' : 'server-cuda'}`,
      // Aliases are not passed: see llamacppPlan (llama-server would answer with the first alias as the model).
      cmd: ['-m', target, '--host', bind, '--port', PORT_PLACEHOLDER, '--alias', def.name, '--metrics', ...def.args],
      mounts: [{ source: def.source, target, readOnly: true }],
      ipcHost: false,
      healthPath: '/health',
    }
  }

  if (def.engine === 'vllm') {
    if (!def.source) throw new Error(`model "${def.name}": vllm needs a source (HF repo id or local directory)`)
    const mounts: ContainerMount[] = [{ source: opts.hfCache, target: HF_CACHE_IN_CONTAINER, readOnly: false }]
    let model = def.source
    if (posix.isAbsolute(def.source)) {
      model = `/models/${posix.basename(def.source)}`
      mounts.push({ source: def.source, target: model, readOnly: true })
    }
    return {
      ...base,
      image: def.image ?? VLLM_IMAGE,
      cmd: [
        '--model',
        model,
        '--served-model-name',
        def.name,
        ...def.aliases,
        '--host',
        bind,
        '--port',
        PORT_PLACEHOLDER,
        ...vllmArgs(def),
      ],
      mounts,
      ipcHost: true,
      healthPath: '/health',
    }
  }

  if (!def.image) throw new Error(`model "${def.name}": engine openai with runtime docker needs an image`)
  return { ...base, image: def.image, cmd: [...def.args], mounts: [], ipcHost: false, healthPath: '/v1/models' }
}

/** `all` only means GPUs on a machine that has them; an explicit list is passed through for Docker to resolve. */
function planGpus(gpus: ModelDefinition['gpus'], hasGpus: boolean): ContainerPlan['gpus'] {
  if (gpus === 'all') return hasGpus ? 'all' : 'none'
  if (gpus === 'none' || gpus.length === 0) return 'none'
  return gpus.map(String)
}

/** The plan's identity: sha256 of its canonical JSON (keys sorted), so equal plans hash equal whatever built them. */
export function planHash(plan: ContainerPlan): string {
  return createHash('sha256').update(canonicalJson(plan)).digest('hex')
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/** The plan for one start: every `${PORT}` in `cmd` (Cortex's and the user's args) becomes `port`. */
export function bindPort(plan: ContainerPlan, port: number): ContainerPlan {
  return { ...plan, cmd: plan.cmd.map((a) => a.replaceAll(PORT_PLACEHOLDER, String(port))) }
}

/** Docker's equivalent of `--gpus all` / `--gpus '"device=0,1"'`; the daemon picks the driver (NVIDIA's) by capability. */
export function deviceRequests(gpus: ContainerPlan['gpus']): DeviceRequest[] {
  if (gpus === 'none') return []
  if (gpus === 'all') return [{ Count: -1, Capabilities: [['gpu']] }]
  return [{ DeviceIDs: gpus, Capabilities: [['gpu']] }]
}
