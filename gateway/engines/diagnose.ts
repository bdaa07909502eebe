import type { Diagnosis, ModelDefinition } from '../contract/index.js'

/** How many log lines a diagnosis carries. */
export const DIAGNOSIS_TAIL = 20

export interface ExitFacts {
  def: ModelDefinition
  code: number | null
  signal: string | null
  /** The engine's recent output, oldest first. */
  log: readonly string[]
  /** Whether it died before becoming ready, or while serving. */
  phase: 'start' | 'running'
}

const make = (cause: string, message: string, exitCode: number | null, log: readonly string[]): Diagnosis => ({
  cause,
  message,
  exitCode,
  logTail: log.slice(-DIAGNOSIS_TAIL),
})

const engineName = (def: ModelDefinition) => (def.engine === 'vllm' ? 'vllm' : 'llama-server')

/**
 * Patterns are what this llama.cpp version prints (common/arg.cpp, tools/server/server-http.cpp,
 * ggml/src/gguf.cpp, src/llama.cpp, ggml-cuda) and what vLLM and huggingface_hub raise; the first rule whose pattern
 * appears anywhere in the log wins, so the more specific causes come first.
 */
const RULES: Array<{ cause: string; pattern: RegExp; message: (def: ModelDefinition, m: RegExpMatchArray) => string }> = [
  // vLLM (Python) and the Hugging Face hub it downloads through.
  {
    cause: 'model_gated',
    pattern: /GatedRepoError|gated repo|is restricted|401 Client Error|403 Client Error/,
    message: (def) =>
      `Hugging Face refused access to ${def.source} (a gated or private model): accept its licence on huggingface.co, ` +
      'then give Cortex a token with read access: PUT /admin/api/settings {"hfToken": "hf_…"}',
  },
  {
    cause: 'model_not_downloaded',
    pattern: /LocalEntryNotFoundError|couldn't connect to 'https:\/\/huggingface\.co'|HF_HUB_OFFLINE/,
    message: (def) =>
      `${def.source} is not in the Hugging Face cache and huggingface.co cannot be reached: download it where there is ` +
      'internet (`huggingface-cli download <repo>`) into the cache Cortex mounts, or use a local model directory as `source`',
  },
  {
    cause: 'model_not_found',
    pattern:
      /RepositoryNotFoundError|Repository Not Found|404 Client Error|is not a local folder and is not a valid model identifier/,
    message: (def) =>
      `${def.source} is neither a Hugging Face model id nor a local model directory: check \`source\` of model "${def.name}" ` +
      '(e.g. Qwen/Qwen2.5-7B-Instruct)',
  },
  {
    cause: 'unsupported_quantization',
    pattern:
      /Unknown quantization method[^\n]*|quantization method[^\n]* is not supported[^\n]*|does not match the quantization method[^\n]*/,
    message: (def, m) =>
      `${engineName(def)} cannot run the quantization of ${def.source} (${m[0].trim()}): pick a model quantized with a method ` +
      'this engine supports, or fix `--quantization` in `args`',
  },
  {
    cause: 'unsupported_model',
    pattern: /Model architectures \[([^\]]*)\] (?:are|is) not supported/,
    message: (def, m) =>
      `this vLLM does not support the architecture ${m[1]} of ${def.source}: use a newer vLLM image or another model`,
  },
  {
    cause: 'shm_too_small',
    pattern: /Bus error|\/dev\/shm|unable to write to file <\/torch_/,
    message: (def) =>
      `model "${def.name}" ran out of shared memory (/dev/shm): vLLM containers need the host's IPC namespace or a large ` +
      'shared memory size; Cortex runs vLLM with `ipc: host` — for another image, give the container more /dev/shm',
  },
  {
    cause: 'unknown_flag',
    pattern: /error: invalid argument: (\S+)/,
    message: (def, m) =>
      `${engineName(def)} does not know the flag "${m[1]}": remove or fix it in \`args\` of model "${def.name}" in cortex.yaml`,
  },
  {
    cause: 'bad_flag_value',
    pattern: /error while handling argument "([^"]+)": ([^\n]*)|(expected value for argument)/,
    message: (def, m) =>
      m[1]
        ? `${engineName(def)} rejected the value of "${m[1]}" (${m[2]!.trim()}): fix \`args\` of model "${def.name}" in cortex.yaml`
        : `a flag in \`args\` of model "${def.name}" is missing its value: fix \`args\` in cortex.yaml`,
  },
  {
    cause: 'port_in_use',
    pattern: /couldn't bind HTTP server socket[^\n]*port: (\d+)/,
    message: (def, m) => `${engineName(def)} could not listen on 127.0.0.1:${m[1]} (the port was taken): start the model again`,
  },
  {
    cause: 'model_file_missing',
    pattern: /failed to open GGUF file '([^']+)' \(No such file or directory\)/,
    message: (_def, m) => `model file ${m[1]} does not exist: check \`source\` in cortex.yaml`,
  },
  {
    cause: 'model_file_unreadable',
    pattern: /failed to open GGUF file '([^']+)' \(([^)]+)\)/,
    message: (_def, m) => `model file ${m[1]} cannot be read (${m[2]}): fix its permissions or \`source\` in cortex.yaml`,
  },
  {
    cause: 'out_of_memory',
    pattern:
      /cudaMalloc failed|out of memory|failed to allocate|unable to allocate|ErrorOutOfDeviceMemory|std::bad_alloc|No available memory for the cache blocks|larger than the maximum number of tokens that can be stored in KV cache/i,
    message: (def) =>
      def.engine === 'vllm'
        ? `model "${def.name}" does not fit in GPU memory: lower \`--max-model-len\`, raise \`--gpu-memory-utilization\`, ` +
          `use a quantized model, spread it over more GPUs (\`--tensor-parallel-size\`), or stop other models`
        : `model "${def.name}" ran out of memory: use a smaller quantization, a smaller context (\`-c\` in \`args\`), ` +
          `fewer GPU layers, or stop other models`,
  },
  {
    cause: 'not_gguf',
    pattern: /invalid magic characters|failed to read magic|gguf_init_from_\w+: failed to read/,
    message: (def) =>
      `${def.source} is not a GGUF file (or is truncated): check \`source\` of model "${def.name}" in cortex.yaml`,
  },
  {
    cause: 'unsupported_model',
    pattern: /unknown model architecture: '([^']*)'/,
    message: (def, m) =>
      `this llama-server does not support the architecture "${m[1]}" of ${def.source}: update llama.cpp or choose another model`,
  },
  {
    cause: 'model_incomplete',
    pattern: /tensor '([^']+)' not found/,
    message: (def, m) =>
      `${def.source} lacks the weights llama-server needs (tensor "${m[1]}" is missing): it may be a vocabulary-only ` +
      `or incomplete file; check \`source\` of model "${def.name}"`,
  },
  {
    cause: 'model_load_failed',
    pattern: /failed to load model|error loading model/,
    message: (def) =>
      `llama-server could not load ${def.source} (see the log lines): the file may be incomplete, vocabulary-only or unsupported`,
  },
]

/** Why an engine process ended, in words, with the fix. */
export function diagnoseExit(f: ExitFacts): Diagnosis {
  const text = f.log.join('\n')
  for (const rule of RULES) {
    const m = text.match(rule.pattern)
    if (m) return make(rule.cause, rule.message(f.def, m), f.code, f.log)
  }
  // The kernel's OOM killer sends SIGKILL; Cortex itself only sends SIGKILL after a stop's grace, which is not a failure.
  if (f.signal === 'SIGKILL') {
    return make(
      'out_of_memory',
      `${engineName(f.def)} for model "${f.def.name}" was killed (SIGKILL), most likely by the out-of-memory killer: ` +
        `use a smaller model or context, or free memory`,
      f.code,
      f.log,
    )
  }
  const how = f.signal ? `was ended by ${f.signal}` : `exited with code ${f.code}`
  const when = f.phase === 'start' ? 'while starting' : 'while serving'
  return make('exited', `${engineName(f.def)} for model "${f.def.name}" ${how} ${when}: see the log lines`, f.code, f.log)
}

export function diagnoseStartTimeout(def: ModelDefinition, timeoutMs: number, log: readonly string[]): Diagnosis {
  return make(
    'start_timeout',
    `model "${def.name}" was not ready after ${Math.round(timeoutMs / 1000)} s: raise \`startTimeout\` in cortex.yaml ` +
      `if the model is just slow to load, else see the log lines`,
    null,
    log,
  )
}

/** A GGUF checked before spawning: `code` is the errno code of `fs.access`. */
export function diagnoseModelFile(def: ModelDefinition, code: string | undefined): Diagnosis {
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return make('model_file_missing', `model file ${def.source} does not exist: check \`source\` in cortex.yaml`, null, [])
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return make('model_file_unreadable', `model file ${def.source} is not readable by Cortex: fix its permissions`, null, [])
  }
  return make('model_file_unreadable', `model file ${def.source} cannot be read (${code ?? 'unknown error'})`, null, [])
}

/** `configured`: the llama-server path from `engines.llamaServer` / CORTEX_LLAMA_SERVER, if one was given. */
export function diagnoseBinaryMissing(def: ModelDefinition, configured: string | null = null): Diagnosis {
  const message =
    def.engine === 'vllm'
      ? '`vllm` was not found on PATH: install vLLM, or run the model with `runtime: docker`'
      : configured
        ? `llama-server ${configured} does not exist or is not executable: fix \`engines.llamaServer\` in cortex.yaml ` +
          'or the CORTEX_LLAMA_SERVER environment variable'
        : 'llama-server was not found on PATH: set `engines.llamaServer` in cortex.yaml or the CORTEX_LLAMA_SERVER ' +
          'environment variable to the llama-server binary'
  return make('engine_binary_missing', message, null, [])
}

export function diagnoseSpawnError(def: ModelDefinition, command: string, error: string): Diagnosis {
  return make('spawn_failed', `could not run ${command} for model "${def.name}": ${error}`, null, [])
}

export function diagnoseRemoteRejected(def: ModelDefinition, url: string, status: number): Diagnosis {
  return make(
    'remote_auth_rejected',
    `the remote ${url} rejected the API key (HTTP ${status}): check \`apiKey\`/\`apiKeyEnv\` of model "${def.name}"`,
    null,
    [],
  )
}

/** `url`: the configured base URL (with /v1); the probe that failed is `{url}/models`. */
export function diagnoseRemoteUnreachable(def: ModelDefinition, url: string, reason: string): Diagnosis {
  return make(
    'remote_unreachable',
    `could not reach ${url.replace(/\/+$/, '')}/models: ${reason} — is the server running? ` +
      `check \`baseUrl\` of model "${def.name}" in cortex.yaml`,
    null,
    [],
  )
}

export function diagnoseUnsupported(def: ModelDefinition): Diagnosis {
  return make(
    'unsupported_runtime',
    `engine "${def.engine}" with runtime "${def.runtime}" cannot be run by this Cortex`,
    null,
    [],
  )
}
