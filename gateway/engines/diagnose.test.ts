import { describe, expect, it } from 'vitest'
import { modelDefinition } from '../contract/model.test-support.js'
import {
  DIAGNOSIS_TAIL,
  diagnoseBinaryMissing,
  diagnoseExit,
  diagnoseModelFile,
  diagnoseRemoteRejected,
  diagnoseStartTimeout,
} from './diagnose.js'

const def = modelDefinition()

// Lines copied from runs of this repository's llama-server build (llama.cpp 3.22.1, CPU).
const LOGS = {
  badFlag: ['0.00.018.849 I srv  llama_server: initializing ...', 'error: invalid argument: --no-such-flag'],
  missing: [
    "0.00.105.370 I srv    load_model: loading model '/nonexist.gguf'",
    "0.00.105.647 E gguf_init_from_file: failed to open GGUF file '/nonexist.gguf' (No such file or directory)",
    '0.00.105.794 E llama_model_load: error loading model: llama_model_loader: failed to load model from /nonexist.gguf',
    '0.00.105.817 E llama_model_load_from_file_impl: failed to load model',
    '0.00.105.861 E common_fit_params: encountered an error while trying to fit params to free device memory: failed to load model',
    "0.00.105.971 E srv    load_model: failed to load model, '/nonexist.gguf'",
    '0.00.116.835 E srv  llama_server: exiting due to model loading error',
  ],
  notGguf: [
    "0.00.023.546 E gguf_init_from_reader: invalid magic characters: 'hell', expected 'GGUF'",
    '0.00.023.675 E llama_model_load: error loading model: llama_model_loader: failed to load model from text.gguf',
    '0.00.023.689 E llama_model_load_from_file_impl: failed to load model',
    '0.00.023.718 E common_fit_params: encountered an error while trying to fit params to free device memory: failed to load model',
    "0.00.023.758 E srv    load_model: failed to load model, 'text.gguf'",
    '0.00.024.306 E srv  llama_server: exiting due to model loading error',
  ],
  vocabOnly: [
    "0.00.241.027 E llama_model_load: error loading model: check_tensor_dims: tensor 'token_embd.weight' not found",
    '0.00.241.063 E llama_model_load_from_file_impl: failed to load model',
    '0.00.241.125 E common_fit_params: encountered an error while trying to fit params to free device memory: failed to load model',
    "0.00.447.055 E srv    load_model: failed to load model, '/models/ggml-vocab-llama-spm.gguf'",
    '0.00.447.614 E srv  llama_server: exiting due to model loading error',
  ],
  portInUse: [
    '0.00.013.396 W srv  llama_server: security: no API key is set and CORS allows all origins (see https://github.com/ggml-org/llama.cpp/pull/25655)',
    "0.00.013.505 E srv         start: couldn't bind HTTP server socket, hostname: 127.0.0.1, port: 55175",
    '0.00.013.506 I srv    operator(): operator(): cleaning up before exit...',
    '0.00.013.840 E srv  llama_server: exiting due to HTTP server error',
  ],
  // Not reproducible on a CPU-only machine: the format string of ggml-cuda.cu and llama-kv-cache.cpp.
  cudaOom: [
    'E ggml_backend_cuda_buffer_type_alloc_buffer: allocating 16384.00 MiB on device 0: cudaMalloc failed: out of memory',
    'E llama_init_from_model: failed to initialize the context: failed to allocate buffer for kv cache',
  ],
  badValue: ['error while handling argument "-c": stoi', '', 'usage:', '-c, --ctx-size N  size of the prompt context'],
}

// What vLLM (0.x, Python) and huggingface_hub print for the failures a person meets first.
const VLLM_LOGS = {
  gated: [
    'INFO 11-22 10:00:01 [api_server.py:1090] vLLM API server version 0.11.0',
    'huggingface_hub.errors.GatedRepoError: 401 Client Error. (Request ID: Root=1-6740)',
    'Cannot access gated repo for url https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct/resolve/main/config.json.',
  ],
  notFound: [
    'huggingface_hub.errors.RepositoryNotFoundError: 404 Client Error. (Request ID: Root=1-6741)',
    'Repository Not Found for url: https://huggingface.co/Qwen/Qwen2.5-7B-Instruc/resolve/main/config.json.',
  ],
  offline: [
    'huggingface_hub.errors.LocalEntryNotFoundError: An error happened while trying to locate the file on the Hub and we cannot find the requested files in the local cache.',
  ],
  oom: [
    'ERROR 11-22 10:01:13 [core.py:700] torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.02 GiB. GPU 0 has a total capacity of 79.10 GiB',
  ],
  kv: [
    "ValueError: The model's max seq len (131072) is larger than the maximum number of tokens that can be stored in KV cache (45312). Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine.",
  ],
  quant: ["ValueError: Unknown quantization method: awq_v9. Must be one of ['aqlm', 'awq', 'fp8', 'gptq']."],
  arch: [
    "ValueError: Model architectures ['FancyForCausalLM'] are not supported for now. Supported architectures: dict_keys(['LlamaForCausalLM'])",
  ],
  shm: [
    'ERROR: Unexpected bus error encountered in worker. This might be caused by insufficient shared memory (shm).',
    'Bus error (core dumped)',
  ],
}

describe('diagnoseExit for vLLM', () => {
  const vllm = { ...def, engine: 'vllm' as const, runtime: 'docker' as const, source: 'Qwen/Qwen2.5-7B-Instruct' }
  it.each([
    ['gated model', VLLM_LOGS.gated, 'model_gated', /gated or private.*hfToken/],
    ['unknown repo', VLLM_LOGS.notFound, 'model_not_found', /neither a Hugging Face model id nor a local model directory/],
    ['offline, not cached', VLLM_LOGS.offline, 'model_not_downloaded', /huggingface-cli download/],
    ['CUDA out of memory', VLLM_LOGS.oom, 'out_of_memory', /--max-model-len.*--gpu-memory-utilization/],
    ['KV cache too small', VLLM_LOGS.kv, 'out_of_memory', /does not fit in GPU memory/],
    ['unknown quantization', VLLM_LOGS.quant, 'unsupported_quantization', /Unknown quantization method: awq_v9/],
    ['unsupported architecture', VLLM_LOGS.arch, 'unsupported_model', /architecture 'FancyForCausalLM'/],
    ['shared memory', VLLM_LOGS.shm, 'shm_too_small', /\/dev\/shm/],
  ] as const)('%s', (_name, log, cause, message) => {
    const d = diagnoseExit({ def: vllm, code: 1, signal: null, log, phase: 'start' })
    expect(d.cause).toBe(cause)
    expect(d.message).toMatch(message)
  })
})

describe('diagnoseExit', () => {
  it.each([
    ['unknown flag', LOGS.badFlag, null, 'unknown_flag', /does not know the flag "--no-such-flag".*`args` of model "tiny"/],
    [
      'missing model file',
      LOGS.missing,
      null,
      'model_file_missing',
      /model file \/nonexist\.gguf does not exist: check `source`/,
    ],
    ['not a GGUF', LOGS.notGguf, null, 'not_gguf', /\/models\/tiny\.gguf is not a GGUF file/],
    ['vocab-only GGUF', LOGS.vocabOnly, null, 'model_incomplete', /tensor "token_embd\.weight" is missing.*vocabulary-only/],
    ['port taken', LOGS.portInUse, null, 'port_in_use', /could not listen on 127\.0\.0\.1:55175/],
    ['CUDA out of memory', LOGS.cudaOom, null, 'out_of_memory', /ran out of memory/],
    ['bad flag value', LOGS.badValue, null, 'bad_flag_value', /rejected the value of "-c" \(stoi\)/],
    [
      'killed by the OOM killer',
      ['0.01 I srv  load_model: loading model'],
      'SIGKILL',
      'out_of_memory',
      /SIGKILL.*out-of-memory killer/,
    ],
    ['plain exit', ['something else'], null, 'exited', /exited with code 1 while starting/],
    ['other signal', [], 'SIGSEGV', 'exited', /was ended by SIGSEGV while starting/],
  ] as const)('%s', (_name, log, signal, cause, message) => {
    const d = diagnoseExit({ def, code: signal ? null : 1, signal, log, phase: 'start' })
    expect(d.cause).toBe(cause)
    expect(d.message).toMatch(message)
    expect(d.logTail).toEqual(log.slice(-DIAGNOSIS_TAIL))
  })

  it('keeps only the last 20 log lines', () => {
    const log = Array.from({ length: 50 }, (_, i) => `line ${i}`)
    const d = diagnoseExit({ def, code: 1, signal: null, log, phase: 'running' })
    expect(d.logTail).toHaveLength(20)
    expect(d.logTail[19]).toBe('line 49')
    expect(d.message).toMatch(/while serving/)
    expect(d.exitCode).toBe(1)
  })
})

describe('diagnoses made before or around the process', () => {
  it.each([
    ['ENOENT', 'model_file_missing', 'model file /models/tiny.gguf does not exist: check `source` in cortex.yaml'],
    ['EACCES', 'model_file_unreadable', 'model file /models/tiny.gguf is not readable by Cortex: fix its permissions'],
    ['EIO', 'model_file_unreadable', 'model file /models/tiny.gguf cannot be read (EIO)'],
  ])('model file %s', (code, cause, message) => {
    expect(diagnoseModelFile(def, code)).toMatchObject({ cause, message })
  })

  it.each([
    [null, /not found on PATH: set `engines\.llamaServer`.*CORTEX_LLAMA_SERVER/],
    ['/opt/llama-server', /llama-server \/opt\/llama-server does not exist or is not executable: fix `engines\.llamaServer`/],
  ])('tells where to configure llama-server (configured: %s)', (configured, message) => {
    expect(diagnoseBinaryMissing(def, configured).message).toMatch(message)
  })

  it('start timeout names the setting and carries the log', () => {
    const d = diagnoseStartTimeout(def, 30_000, ['a', 'b'])
    expect(d).toMatchObject({ cause: 'start_timeout', logTail: ['a', 'b'] })
    expect(d.message).toMatch(/not ready after 30 s: raise `startTimeout`/)
  })

  it('a rejected API key', () => {
    expect(diagnoseRemoteRejected({ ...def, runtime: 'remote' }, 'http://x/v1', 401).message).toMatch(
      /rejected the API key \(HTTP 401\)/,
    )
  })
})
