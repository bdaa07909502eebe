/**
 * The llama-server and vLLM settings that decide GPU memory, read from a model's `args` list. Pure. Flags are
 * spelled as the engines accept them (`-c 8192`, `--ctx-size=8192`); anything else is left to the engine.
 */

/** What llama-server does with `-fa`: `auto` enables flash attention where the backend supports it (CUDA does). */
export type FlashAttn = 'on' | 'off' | 'auto'

export interface LlamaCppSettings {
  /** `-c`; null when unset or 0: the trained context (times the slots, with `-fit on`; see estimate.ts). */
  ctxSize: number | null
  /** `-np`; null when unset or -1: llama-server then uses 4 slots over one unified KV cache. */
  parallel: number | null
  /** `-ngl`: layers on the GPU counting the output layer as one; `auto` lets llama.cpp's fit decide (all if they fit). */
  gpuLayers: number | 'all' | 'auto'
  /** `-ctk` / `-ctv`: ggml type names as llama.cpp spells them (`f16`, `q8_0`). */
  cacheTypeK: string
  cacheTypeV: string
  flashAttn: FlashAttn
  /** `-b` (default 2048) and `-ub` (default 512); the compute buffer grows with the smaller. */
  batch: number
  ubatch: number
  /** `-kvu` / `-no-kvu`; null: the default, unified only when the slot count is automatic. */
  kvUnified: boolean | null
  /** `--swa-full`: full-size caches for sliding-window layers. */
  swaFull: boolean
  /** `-nkvo` turns it off: the KV cache then stays in host memory. */
  kvOffload: boolean
  /** `-fit off` turns it off: llama.cpp then neither grows an unset context with the slots nor shrinks it to fit. */
  fit: boolean
}

export const LLAMA_CPP_DEFAULTS: Readonly<LlamaCppSettings> = Object.freeze({
  ctxSize: null,
  parallel: null,
  gpuLayers: 'auto',
  cacheTypeK: 'f16',
  cacheTypeV: 'f16',
  flashAttn: 'auto',
  batch: 2048,
  ubatch: 512,
  kvUnified: null,
  swaFull: false,
  kvOffload: true,
  fit: true,
})

/** An args list llama-server would reject for a setting that decides memory; `flag` names the flag as written. */
export class EngineArgsError extends Error {
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(message)
    this.name = 'EngineArgsError'
  }
}

// common_arg_utils::is_truthy / is_falsey / is_autoy in llama.cpp's common/arg.cpp.
const TRUTHY = new Set(['on', 'enabled', 'true', '1'])
const FALSEY = new Set(['off', 'disabled', 'false', '0'])
const AUTOY = new Set(['auto', '-1'])

type Setter<S> = (settings: S, value: string, flag: string) => void
interface Flags<S> {
  /** Flags followed by a value. */
  valued: Record<string, Setter<S>>
  /** Flags that stand alone. */
  switches: Record<string, (settings: S) => void>
}

function integer(value: string, flag: string, min: number): number {
  const n = Number(value)
  if (!/^-?\d+$/.test(value) || n < min) throw new EngineArgsError(flag, `${flag} expects an integer ≥ ${min}, got "${value}"`)
  return n
}

function cacheType(value: string, flag: string): string {
  // kv_cache_types in llama.cpp's common/arg.cpp.
  const allowed = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0', 'q4_1', 'iq4_nl', 'q5_0', 'q5_1']
  const type = value.toLowerCase()
  if (!allowed.includes(type)) throw new EngineArgsError(flag, `${flag} expects one of ${allowed.join(', ')}, got "${value}"`)
  return type
}

const LLAMA_FLAGS: Flags<LlamaCppSettings> = {
  valued: {
    '-c': (s, v, f) => {
      const n = integer(v, f, 0)
      s.ctxSize = n === 0 ? null : n
    },
    '-np': (s, v, f) => {
      const n = integer(v, f, -1)
      if (n === 0) throw new EngineArgsError(f, `${f} 0 is not a slot count: use -1 for automatic or a count ≥ 1`)
      s.parallel = n === -1 ? null : n
    },
    '-ngl': (s, v, f) => {
      // llama.cpp: 'auto' or -1 is automatic, 'all' or ≤ -2 is every layer.
      if (v === 'auto' || v === 'all') s.gpuLayers = v
      else {
        const n = integer(v, f, Number.MIN_SAFE_INTEGER)
        s.gpuLayers = n === -1 ? 'auto' : n <= -2 ? 'all' : n
      }
    },
    '-ctk': (s, v, f) => (s.cacheTypeK = cacheType(v, f)),
    '-ctv': (s, v, f) => (s.cacheTypeV = cacheType(v, f)),
    '-fa': (s, v, f) => {
      if (TRUTHY.has(v)) s.flashAttn = 'on'
      else if (FALSEY.has(v)) s.flashAttn = 'off'
      else if (AUTOY.has(v)) s.flashAttn = 'auto'
      else throw new EngineArgsError(f, `${f} expects on, off or auto, got "${v}"`)
    },
    '-b': (s, v, f) => (s.batch = integer(v, f, 1)),
    '-ub': (s, v, f) => (s.ubatch = integer(v, f, 1)),
    '-fit': (s, v, f) => {
      if (TRUTHY.has(v)) s.fit = true
      else if (FALSEY.has(v)) s.fit = false
      else throw new EngineArgsError(f, `${f} expects on or off, got "${v}"`)
    },
  },
  switches: {
    '-kvu': (s) => (s.kvUnified = true),
    '-no-kvu': (s) => (s.kvUnified = false),
    '--swa-full': (s) => (s.swaFull = true),
    '-kvo': (s) => (s.kvOffload = true),
    '-nkvo': (s) => (s.kvOffload = false),
  },
}

// Long spellings of the flags above, as llama.cpp's common/arg.cpp lists them.
const LLAMA_ALIASES: Record<string, string> = {
  '--ctx-size': '-c',
  '--parallel': '-np',
  '--gpu-layers': '-ngl',
  '--n-gpu-layers': '-ngl',
  '--cache-type-k': '-ctk',
  '--cache-type-v': '-ctv',
  '--flash-attn': '-fa',
  '--batch-size': '-b',
  '--ubatch-size': '-ub',
  '--fit': '-fit',
  '--kv-unified': '-kvu',
  '--no-kv-unified': '-no-kvu',
  '--kv-offload': '-kvo',
  '--no-kv-offload': '-nkvo',
}

function parse<S>(args: readonly string[], flags: Flags<S>, aliases: Record<string, string>, settings: S): S {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const eq = arg.startsWith('-') ? arg.indexOf('=') : -1
    const written = eq > 0 ? arg.slice(0, eq) : arg
    const flag = aliases[written] ?? written
    const setter = flags.valued[flag]
    if (setter) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i]
      if (value === undefined) throw new EngineArgsError(written, `${written} needs a value`)
      setter(settings, value, written)
    } else if (eq < 0) flags.switches[flag]?.(settings)
  }
  return settings
}

/** The memory-relevant llama-server settings of an args list; later flags win, as in llama.cpp. */
export function parseLlamaCppArgs(args: readonly string[]): LlamaCppSettings {
  return parse(args, LLAMA_FLAGS, LLAMA_ALIASES, { ...LLAMA_CPP_DEFAULTS })
}

export interface VllmSettings {
  /** `--gpu-memory-utilization`: the share of each card's memory vLLM takes at start (default 0.9). */
  gpuMemoryUtilization: number
  /** `--max-model-len`; null: the model's own maximum. */
  maxModelLen: number | null
  /** `--tensor-parallel-size` / `-tp` (default 1) times `--pipeline-parallel-size` / `-pp`: cards used. */
  tensorParallel: number
  pipelineParallel: number
  /** `--dtype`: `auto` takes the config's dtype (float32 models run as bfloat16). */
  dtype: string
  /** `--kv-cache-dtype`: `auto` is the model dtype; `fp8*` is one byte. */
  kvCacheDtype: string
  /** `--quantization` / `-q`; null: what the config's quantization_config says. */
  quantization: string | null
  /** `--max-num-seqs` (default 256 on GPUs): sequences batched at once; sizes the sampler's buffers. */
  maxNumSeqs: number
}

export const VLLM_DEFAULTS: Readonly<VllmSettings> = Object.freeze({
  gpuMemoryUtilization: 0.9,
  maxModelLen: null,
  tensorParallel: 1,
  pipelineParallel: 1,
  dtype: 'auto',
  kvCacheDtype: 'auto',
  quantization: null,
  maxNumSeqs: 256,
})

const VLLM_FLAGS: Flags<VllmSettings> = {
  valued: {
    '--gpu-memory-utilization': (s, v, f) => {
      const x = Number(v)
      if (!(x > 0 && x <= 1)) throw new EngineArgsError(f, `${f} expects a fraction in (0, 1], got "${v}"`)
      s.gpuMemoryUtilization = x
    },
    '--max-model-len': (s, v, f) => (s.maxModelLen = parseLength(v, f)),
    '--tensor-parallel-size': (s, v, f) => (s.tensorParallel = integer(v, f, 1)),
    '--pipeline-parallel-size': (s, v, f) => (s.pipelineParallel = integer(v, f, 1)),
    '--dtype': (s, v) => (s.dtype = v),
    '--kv-cache-dtype': (s, v) => (s.kvCacheDtype = v),
    '--quantization': (s, v) => (s.quantization = v),
    '--max-num-seqs': (s, v, f) => (s.maxNumSeqs = integer(v, f, 1)),
  },
  switches: {},
}

const VLLM_ALIASES: Record<string, string> = {
  '-tp': '--tensor-parallel-size',
  '-pp': '--pipeline-parallel-size',
  '-q': '--quantization',
}

// vLLM accepts `32k`/`32K` (×1000) and `32ki`/`32Ki` (×1024) for --max-model-len.
function parseLength(value: string, flag: string): number {
  const m = /^(\d+)(k|ki|m|mi)?$/i.exec(value)
  if (!m) throw new EngineArgsError(flag, `${flag} expects a token count such as 32768, 32k or 32ki, got "${value}"`)
  const unit = (m[2] ?? '').toLowerCase()
  const factor = { '': 1, k: 1000, ki: 1024, m: 1e6, mi: 1 << 20 }[unit]!
  return Number(m[1]) * factor
}

/** The memory-relevant `vllm serve` settings of an args list. */
export function parseVllmArgs(args: readonly string[]): VllmSettings {
  return parse(args, VLLM_FLAGS, VLLM_ALIASES, { ...VLLM_DEFAULTS })
}
