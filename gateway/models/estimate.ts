/**
 * GPU memory a CUDA llama-server needs for a GGUF model and its settings. Pure: the GGUF header comes from
 * gguf.ts, the settings from parseLlamaCppArgs. The rules follow llama.cpp as shipped in node-llama-cpp 3.22.1
 * and were checked against a real CUDA llama-server on an H100; ESTIMATE.md has the measurements and the error.
 */
import { LLAMA_CPP_DEFAULTS, type LlamaCppSettings } from './estimate-args.js'
import { modelShape, tensorLayer, type GgufModel, type LayerShape } from './estimate-shape.js'
import { GGML_TYPES } from './ggml-types.js'

export { modelShape, type GgufModel } from './estimate-shape.js'

const MiB = 1024 * 1024

/**
 * What one CUDA process holds besides llama.cpp's buffers: the CUDA context and its kernel images. Measured as the
 * process's used memory minus the logged buffers: 585.6–590.6 MiB in every run with layers on the H100 (driver 580,
 * CUDA 13). Other cards and drivers differ by up to a few hundred MiB.
 */
export const CUDA_CONTEXT_BYTES = 592 * MiB
/**
 * ggml's CUDA memory pool and cuBLAS workspace, which grow during the first prompts (in no logged buffer). Measured
 * as process memory after a 2000-token prompt minus the buffers: at most 621 MiB with quantized weights and flash
 * attention, 717 MiB with float weights (cuBLAS), 802 MiB without flash attention (KQ through cuBLAS; it grew with
 * -ub, measured at 512 and 1024). These allowances on top of the context cover each.
 */
export const POOL_BYTES = { quantized: 32 * MiB, floatWeights: 128 * MiB, noFlashAttn: 224 * MiB } as const

/** One GPU's share of the model, when the layers are split over several. */
export interface GpuShare {
  weightsBytes: number
  kvCacheBytes: number
  computeBytes: number
  overheadBytes: number
  totalBytes: number
}

export interface LlamaCppEstimate {
  /** Tensor bytes on the GPU: offloaded layers, the output layer (and a tied embedding copied for it). */
  weightsBytes: number
  kvCacheBytes: number
  /** The compute buffer llama.cpp reserves for the worst-case batch (logged as "CUDA0 compute buffer size"). */
  computeBytes: number
  /** CUDA context and pool, per GPU used. */
  overheadBytes: number
  totalBytes: number
  /** Present when the layers are split over more than one GPU. */
  perGpu?: GpuShare[]
  /** What stays in host memory: the input embedding, layers not offloaded, their KV cache. */
  host: { weightsBytes: number; kvCacheBytes: number }
  /** The resolved settings the figures were computed for. */
  context: {
    nCtx: number
    nCtxSeq: number
    slots: number
    unified: boolean
    ubatch: number
    gpuLayers: number
    flashAttn: boolean
  }
  notes: string[]
}

export interface LlamaCppEstimateOptions {
  /**
   * Free memory of each GPU llama-server sees, in bytes; llama.cpp splits the layers in proportion to it. Default:
   * one GPU.
   */
  gpuFreeBytes?: readonly number[]
}

const pad = (n: number, to: number) => Math.ceil(n / to) * to

function typeSize(name: string): { blockSize: number; typeSize: number } {
  const upper = name.toUpperCase()
  for (const t of GGML_TYPES.values()) if (t.name === upper) return t
  throw new Error(`unknown ggml type "${name}"`)
}
const rowBytes = (type: string, width: number) => {
  const t = typeSize(type)
  return (width / t.blockSize) * t.typeSize
}

// llama_context's n_ctx / n_ctx_seq: the total is padded to 256, and split into per-slot streams unless unified.
function resolveContext(s: LlamaCppSettings, trained: number | null, notes: string[]) {
  const slots = s.parallel ?? 4
  const unified = s.kvUnified ?? s.parallel === null
  let nCtx = s.ctxSize
  if (nCtx === null) {
    const train = trained ?? 4096
    if (trained === null) notes.push('the file states no context length; assumed 4096')
    // common/fit.cpp: with -c unset, -fit on gives every slot the trained context.
    nCtx = s.fit ? train * slots : train
  }
  nCtx = pad(nCtx, 256)
  let nCtxSeq = nCtx
  if (!unified) {
    nCtxSeq = pad(Math.floor(nCtx / slots), 256)
    nCtx = nCtxSeq * slots
  }
  return { slots, unified, nCtx, nCtxSeq }
}

/** Cells of one layer's cache per stream: a sliding-window layer keeps the window plus one batch (llama-kv-cache-iswa.cpp). */
function layerCells(
  layer: LayerShape,
  window: number | null,
  ctx: ReturnType<typeof resolveContext>,
  s: LlamaCppSettings,
  ubatch: number,
) {
  if (!layer.swa || !window || s.swaFull) return ctx.nCtxSeq
  return Math.min(ctx.nCtxSeq, pad(window * (ctx.unified ? ctx.slots : 1) + ubatch, 256))
}

const FLOAT_TYPES = new Set(['F32', 'F16', 'BF16'])

export function estimateLlamaCpp(
  model: GgufModel,
  settings: Partial<LlamaCppSettings> = {},
  options: LlamaCppEstimateOptions = {},
): LlamaCppEstimate {
  const s = { ...LLAMA_CPP_DEFAULTS, ...settings }
  const shape = modelShape(model)
  const notes = [...shape.notes]
  const nLayer = shape.layers.length
  const ctx = resolveContext(s, shape.contextLength, notes)
  const ubatch = Math.min(s.batch, s.ubatch)
  const T = Math.min(ctx.nCtx, ubatch)
  const flashAttn = s.flashAttn !== 'off'
  if (s.flashAttn === 'auto') notes.push('flash attention: auto is on for CUDA GPUs')

  // llama-model.cpp: the output layer counts as the last of n_layer + 1; -ngl N offloads the last N of them.
  const gpuLayers = s.gpuLayers === 'auto' || s.gpuLayers === 'all' ? nLayer + 1 : Math.max(0, Math.min(s.gpuLayers, nLayer + 1))
  if (s.gpuLayers === 'auto')
    notes.push(`-ngl auto: all ${nLayer + 1} layers assumed offloaded; llama.cpp's fit offloads fewer when memory is short`)
  const firstGpuLayer = nLayer + 1 - gpuLayers
  const onGpu = (layer: number | 'input' | 'output') =>
    layer === 'output' ? gpuLayers > 0 : layer !== 'input' && layer >= firstGpuLayer

  // Weights by the layer that holds them; a tied embedding (no output.weight) is copied to the output layer.
  const layerWeights = new Map<number | 'input' | 'output', number>()
  let floatMatrices = false
  for (const t of model.tensors) {
    const layer = tensorLayer(t.name)
    layerWeights.set(layer, (layerWeights.get(layer) ?? 0) + t.size)
    if (typeof layer === 'number' && t.dims.length >= 2 && FLOAT_TYPES.has(t.type)) floatMatrices = true
  }
  const embedding = model.tensors.find((t) => t.name === 'token_embd.weight')
  if (embedding && !model.tensors.some((t) => t.name === 'output.weight')) {
    layerWeights.set('output', (layerWeights.get('output') ?? 0) + embedding.size)
    if (gpuLayers > 0) notes.push('tied embeddings: llama.cpp keeps a second copy of token_embd for the output layer')
  }

  // K and V per layer, on the GPU when the layer is and -nkvo is not given.
  const kvByLayer = shape.layers.map((layer) => {
    const cells = layerCells(layer, shape.slidingWindow, ctx, s, ubatch) * (ctx.unified ? 1 : ctx.slots)
    return { cells, bytes: cells * (rowBytes(s.cacheTypeK, layer.kWidth) + rowBytes(s.cacheTypeV, layer.vWidth)) }
  })
  if (!shape.causal) {
    kvByLayer.forEach((kv) => (kv.bytes = 0))
    notes.push(`${shape.architecture}: not causal (an encoder), keeps no KV cache`)
  }
  if (!flashAttn && s.cacheTypeV !== 'f16' && s.cacheTypeV !== 'f32' && s.cacheTypeV !== 'bf16') {
    notes.push('llama-server refuses a quantized V cache without flash attention (-fa off)')
  }

  // Devices: layer i (the output layer is n_layer) goes to the first GPU whose cumulative share exceeds its position.
  const free = options.gpuFreeBytes?.length ? options.gpuFreeBytes : [1]
  const total = free.reduce((a, b) => a + b, 0)
  const cumulative = free.map((_, i) => free.slice(0, i + 1).reduce((a, b) => a + b, 0) / total)
  const deviceOf = (il: number) => {
    const x = (il - firstGpuLayer) / gpuLayers
    const d = cumulative.findIndex((c) => c > x)
    return d === -1 ? free.length - 1 : d
  }
  const shares = free.map(() => ({ weights: 0, kv: 0, used: false }))
  for (let il = firstGpuLayer; il <= nLayer; il++) shares[deviceOf(il)]!.used = true
  const host = { weightsBytes: 0, kvCacheBytes: 0 }
  let largestHostLayer = 0
  for (const [layer, bytes] of layerWeights) {
    if (onGpu(layer)) shares[deviceOf(layer === 'output' ? nLayer : (layer as number))]!.weights += bytes
    else {
      host.weightsBytes += bytes
      if (typeof layer === 'number') largestHostLayer = Math.max(largestHostLayer, bytes)
    }
  }
  kvByLayer.forEach((kv, il) => {
    if (onGpu(il) && s.kvOffload) shares[deviceOf(il)]!.kv += kv.bytes
    else host.kvCacheBytes += kv.bytes
  })

  const gpuCells = kvByLayer.map((kv, il) => (onGpu(il) ? kv.cells : 0))
  const compute = computeBytes({ shape, T, ctx, flashAttn, s, gpuCells, largestHostLayer })
  const pool = !flashAttn ? POOL_BYTES.noFlashAttn : floatMatrices ? POOL_BYTES.floatWeights : POOL_BYTES.quantized
  const overhead = CUDA_CONTEXT_BYTES + pool
  // Even with -ngl 0 the CUDA backend holds a compute buffer: large batches of host layers run on the GPU.
  if (!shares.some((g) => g.used)) shares[0]!.used = true

  const perGpu = shares
    .filter((g) => g.used)
    .map((g) => ({
      weightsBytes: g.weights,
      kvCacheBytes: g.kv,
      computeBytes: compute,
      overheadBytes: overhead,
      totalBytes: g.weights + g.kv + compute + overhead,
    }))
  if (perGpu.length > 1) {
    notes.push('split over several GPUs: not measured; with pipeline parallelism llama.cpp may hold more compute buffers')
  }
  const sum = (key: keyof GpuShare) => perGpu.reduce((a, g) => a + g[key], 0)
  return {
    weightsBytes: sum('weightsBytes'),
    kvCacheBytes: sum('kvCacheBytes'),
    computeBytes: sum('computeBytes'),
    overheadBytes: sum('overheadBytes'),
    totalBytes: sum('totalBytes'),
    ...(perGpu.length > 1 ? { perGpu } : {}),
    host,
    context: { ...ctx, ubatch, gpuLayers, flashAttn },
    notes,
  }
}

interface ComputeInputs {
  shape: ReturnType<typeof modelShape>
  /** Tokens of the worst-case batch llama.cpp reserves for: min(n_ctx, n_ubatch). */
  T: number
  ctx: ReturnType<typeof resolveContext>
  flashAttn: boolean
  s: LlamaCppSettings
  /** Cache cells of each layer on the GPU (0 for host layers). */
  gpuCells: number[]
  largestHostLayer: number
}

/**
 * The compute buffer: the peak of live activations in the worst-case graph (ggml-alloc reuses memory, so it is a
 * maximum over the stages of one layer, not a sum), plus the KQ mask, which every layer reads. Fitted to the
 * measured "CUDA0 compute buffer size" of dense llama models: within 0.1 MiB in 29 of 30 full-offload runs (ESTIMATE.md).
 */
function computeBytes({ shape, T, ctx, flashAttn, s, gpuCells, largestHostLayer }: ComputeInputs): number {
  const E = shape.embd
  const F32 = 4
  const kWidth = Math.max(0, ...shape.layers.map((l) => l.kWidth))
  const mask = ctx.nCtxSeq * T * (flashAttn ? 2 : 4)
  // Residual, norm output, gate, up and the gated product: 3 rows of each width per token.
  const ffn = T * (3 * E + 3 * shape.ffWidth) * F32
  const kvWidth = Math.max(0, ...shape.layers.map((l) => l.kWidth + l.vWidth))
  let attention: number
  if (flashAttn) {
    attention = T * Math.max(4 * E, 3 * E + kvWidth) * F32
    // ggml-cuda's flash attention converts a quantized cache to F16 inside its output's allocation, one layer at a time.
    const converted = (l: LayerShape) => (s.cacheTypeK === 'f16' ? 0 : l.kWidth) + (s.cacheTypeV === 'f16' ? 0 : l.vWidth)
    attention += shape.layers.reduce((max, l, il) => Math.max(max, gpuCells[il]! * converted(l) * 2), 0)
  } else {
    // Without flash attention KQ is materialized in F32: n_kv × tokens × heads.
    attention = ctx.nCtxSeq * T * shape.heads * F32 + T * (4 * E + 2 * kWidth) * F32
  }
  const output = T * 2 * E * F32 + ctx.slots * shape.vocab * F32
  // With host layers, op offload copies their weights into this buffer to run large batches on the GPU.
  const offload = largestHostLayer > 0 && T >= 32 ? largestHostLayer : 0
  return mask + Math.max(ffn, attention, output) + offload
}
