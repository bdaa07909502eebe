#!/usr/bin/env node
// A stand-in for vLLM's OpenAI server (`vllm serve`), for tests on machines without an NVIDIA GPU. It takes the
// command line Cortex's vLLM container plan passes, and answers what Cortex reads of vLLM: /health, /v1/models,
// /metrics (vllm:* series) and completions, after a loading delay during which connections are refused.
// Plain JavaScript with no dependencies, so it runs under a bare `node` inside the stand-in image.
//   vllm-standin.mjs serve [MODEL] [--model MODEL] [--served-model-name NAME...] [--host H] [--port P]
//                          [--max-model-len N] [other vLLM flags, ignored]
// Environment: STANDIN_LOAD_MS (default 1500): the loading delay; SIGUSR1 ends it at once.
import http from 'node:http'

const VERSION = '0.0.0+cortex-standin'
/** Qwen2.5's max_position_embeddings: what vLLM reports when --max-model-len is not given for such a model. */
const DEFAULT_MAX_MODEL_LEN = 32768

/** vLLM's log format: `INFO 01-31 12:00:00 [api_server.py:1] message`, on stdout. */
function log(level, where, message) {
  const t = new Date().toISOString()
  process.stdout.write(`${level} ${t.slice(5, 10)} ${t.slice(11, 19)} [${where}] ${message}\n`)
}

/** argparse's way out: usage and the error on stderr, exit status 2. */
function usageError(message) {
  process.stderr.write(`usage: vllm [-h] [-v] {chat,complete,serve,bench,collect-env,run-batch} ...\nvllm: error: ${message}\n`)
  process.exit(2)
}

function parseArgs(argv) {
  if (argv[0] !== 'serve') usageError(`argument subparser: invalid choice: '${argv[0] ?? ''}' (choose from 'serve')`)
  const args = { model: null, viaFlag: false, names: [], host: '0.0.0.0', port: 8000, maxModelLen: DEFAULT_MAX_MODEL_LEN }
  const ignored = []
  const isFlag = (s) => s !== undefined && s.startsWith('-')
  for (let i = 1; i < argv.length; i++) {
    const token = argv[i]
    if (!isFlag(token)) {
      if (args.model !== null) usageError(`unrecognized arguments: ${token}`)
      args.model = token
      continue
    }
    // vLLM's parser also accepts `--flag=value` and underscores (`--max_model_len`).
    const [rawFlag, inline] = token.split(/=(.*)/s, 2)
    const flag = rawFlag.replaceAll('_', '-')
    const values = []
    if (inline !== undefined) values.push(inline)
    else if (flag === '--served-model-name') while (argv[i + 1] !== undefined && !isFlag(argv[i + 1])) values.push(argv[++i])
    else if (argv[i + 1] !== undefined && !isFlag(argv[i + 1])) values.push(argv[++i])
    const one = () => values[0] ?? usageError(`argument ${flag}: expected one argument`)
    const int = () => {
      const n = Number(one())
      return Number.isInteger(n) && n > 0 ? n : usageError(`argument ${flag}: invalid int value: '${values[0]}'`)
    }
    if (flag === '--model') {
      args.model = one()
      args.viaFlag = true
    } else if (flag === '--served-model-name') {
      if (values.length === 0) usageError(`argument ${flag}: expected at least one argument`)
      args.names.push(...values)
    } else if (flag === '--host') args.host = one()
    else if (flag === '--port') args.port = int()
    else if (flag === '--max-model-len') args.maxModelLen = int()
    else ignored.push([flag, ...values].join(' '))
  }
  if (args.model === null) usageError('the following arguments are required: model_tag')
  if (args.names.length === 0) args.names.push(args.model)
  return { args, ignored }
}

const { args, ignored } = parseArgs(process.argv.slice(2))
const modelName = args.names[0]
const stats = { running: 0, promptTokens: 0, generationTokens: 0, succeeded: 0 }
let server = null

log('INFO', 'api_server.py:1', `vLLM API server version ${VERSION}`)
log('INFO', 'utils.py:1', `non-default args: ${JSON.stringify({ model: args.model, served_model_name: args.names })}`)
if (args.viaFlag) {
  // What vLLM 0.20+ prints for the plan's `--model` (still accepted; the positional form is the new one).
  log(
    'WARNING',
    'argparse_utils.py:1',
    'With `vllm serve`, you should provide the model as a positional argument instead of via the `--model` option.',
  )
}
for (const flag of ignored) log('WARNING', 'standin', `ignoring ${flag}`)
// Whether a token arrived, never its value: the tests check that settings reach the container.
log('INFO', 'standin', process.env.HF_TOKEN ? 'HF_TOKEN set' : 'HF_TOKEN not set')

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    log('INFO', 'launcher.py:1', 'Shutting down FastAPI HTTP server.')
    server?.closeAllConnections()
    process.exit(0)
  })
}

// vLLM binds its port without listening before it loads the model (vllm#8204), so until then a connection is
// refused; this stand-in does not listen at all until its delay is over.
const loadMs = Number(process.env.STANDIN_LOAD_MS ?? 1500)
const loaded = new Promise((resolve) => {
  const timer = setTimeout(resolve, loadMs)
  // Listening before the line below is out, so a test that reacts to it is heard; kept for good, since with no
  // listener a later SIGUSR1 would open Node's inspector.
  process.on('SIGUSR1', () => {
    clearTimeout(timer)
    resolve()
  })
})
log('INFO', 'gpu_model_runner.py:1', `Starting to load model ${args.model}...`)
await loaded
log('INFO', 'gpu_model_runner.py:1', `Model loading took 0.0 GiB and ${(loadMs / 1000).toFixed(1)} seconds`)

server = http.createServer((req, res) => {
  route(req, res).catch((err) => {
    log('ERROR', 'standin', String(err?.stack ?? err))
    if (!res.headersSent) send(res, 500, apiError('InternalServerError', 'internal error', 500))
    else res.destroy()
  })
})
server.once('error', (err) => {
  log('ERROR', 'api_server.py:1', `${err.code === 'EADDRINUSE' ? '[Errno 98] Address already in use' : err.message}`)
  process.exit(1)
})
server.listen(args.port, args.host, () => {
  log('INFO', 'api_server.py:1', `Starting vLLM API server 0 on http://${args.host}:${args.port}`)
  process.stdout.write(`INFO:     Started server process [${process.pid}]\nINFO:     Application startup complete.\n`)
})

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

function apiError(type, message, code) {
  return { error: { message, type, param: null, code } }
}

async function readJson(req) {
  const chunks = []
  for await (const chunk of req) chunks.push(chunk)
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    return body && typeof body === 'object' && !Array.isArray(body) ? body : null
  } catch {
    return null
  }
}

async function route(req, res) {
  const path = req.url.split('?', 1)[0]
  const get = req.method === 'GET'
  if (path === '/health' && get) return void res.writeHead(200).end()
  if (path === '/v1/models' && get) return send(res, 200, models())
  if (path === '/metrics' && get) {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
    return void res.end(metrics())
  }
  if ((path === '/v1/chat/completions' || path === '/v1/completions') && req.method === 'POST') {
    return complete(req, res, path === '/v1/chat/completions')
  }
  // FastAPI's answers for an unknown path and a known path with the wrong method.
  const known = ['/health', '/v1/models', '/metrics', '/v1/chat/completions', '/v1/completions'].includes(path)
  send(res, known ? 405 : 404, { detail: known ? 'Method Not Allowed' : 'Not Found' })
}

/** One card per served name, as vLLM lists them: `root` is the model it loaded. */
function models() {
  const created = Math.floor(Date.now() / 1000)
  const card = (id) => ({
    id,
    object: 'model',
    created,
    owned_by: 'vllm',
    root: args.model,
    parent: null,
    max_model_len: args.maxModelLen,
  })
  return { object: 'list', data: args.names.map(card) }
}

function metrics() {
  const labels = `engine="0",model_name="${modelName}"`
  const series = [
    ['vllm:num_requests_running', 'gauge', 'Number of requests in model execution batches.', stats.running],
    ['vllm:num_requests_waiting', 'gauge', 'Number of requests waiting to be processed.', 0],
    // Renamed to kv_cache_usage_perc in vLLM 0.10; both appear while the old name is deprecated.
    ['vllm:gpu_cache_usage_perc', 'gauge', 'GPU KV-cache usage. 1 means 100 percent usage.', 0],
    ['vllm:kv_cache_usage_perc', 'gauge', 'KV-cache usage. 1 means 100 percent usage.', 0],
    ['vllm:prompt_tokens_total', 'counter', 'Number of prefill tokens processed.', stats.promptTokens],
    ['vllm:generation_tokens_total', 'counter', 'Number of generation tokens processed.', stats.generationTokens],
  ]
  const lines = series.flatMap(([name, type, help, value]) => [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} ${type}`,
    `${name}{${labels}} ${value.toFixed(1)}`,
  ])
  lines.push(
    '# HELP vllm:request_success_total Count of successfully processed requests.',
    '# TYPE vllm:request_success_total counter',
    `vllm:request_success_total{${labels},finished_reason="length"} ${stats.succeeded.toFixed(1)}`,
  )
  return `${lines.join('\n')}\n`
}

const textOf = (content) =>
  typeof content === 'string' ? content : Array.isArray(content) ? content.map((p) => p?.text ?? '').join(' ') : ''

/** Deterministic output: the prompt's words, cycled, one word per token, exactly `max_tokens` of them. */
async function complete(req, res, chat) {
  const body = await readJson(req)
  if (!body) return send(res, 400, apiError('BadRequestError', 'request body is not a JSON object', 400))
  const model = body.model ?? modelName
  if (!args.names.includes(model)) return send(res, 404, apiError('NotFoundError', `The model \`${model}\` does not exist.`, 404))
  const prompt = chat
    ? (Array.isArray(body.messages) ? body.messages : []).map((m) => textOf(m?.content)).join(' ')
    : [body.prompt].flat().join(' ')
  const words = prompt.split(/\s+/).filter(Boolean)
  const promptTokens = Math.max(1, words.length)
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? 16
  if (promptTokens + maxTokens > args.maxModelLen) {
    const message = `This model's maximum context length is ${args.maxModelLen} tokens. However, you requested ${promptTokens + maxTokens} tokens (${promptTokens} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`
    return send(res, 400, apiError('BadRequestError', message, 400))
  }
  const pieces = Array.from({ length: maxTokens }, (_, i) => `${i === 0 ? '' : ' '}${words[i % words.length] ?? 'ok'}`)
  const usage = { prompt_tokens: promptTokens, completion_tokens: maxTokens, total_tokens: promptTokens + maxTokens }
  const id = `${chat ? 'chatcmpl' : 'cmpl'}-${Date.now().toString(16)}`
  const head = { id, object: chat ? 'chat.completion' : 'text_completion', created: Math.floor(Date.now() / 1000), model }

  stats.running++
  try {
    if (!body.stream) {
      const choice = chat
        ? {
            index: 0,
            message: { role: 'assistant', content: pieces.join('') },
            logprobs: null,
            finish_reason: 'length',
            stop_reason: null,
          }
        : { index: 0, text: pieces.join(''), logprobs: null, finish_reason: 'length', stop_reason: null }
      send(res, 200, { ...head, choices: [choice], usage })
    } else {
      const done = await stream(
        res,
        { ...head, object: chat ? 'chat.completion.chunk' : 'text_completion' },
        chat,
        pieces,
        body,
        usage,
      )
      if (!done) return
    }
    stats.promptTokens += promptTokens
    stats.generationTokens += maxTokens
    stats.succeeded++
  } finally {
    stats.running--
  }
}

/** vLLM's SSE: a role chunk (chat), one chunk per token with the finish reason on the last, then with
 *  `stream_options.include_usage` a chunk whose `choices` is empty, then `[DONE]`. False when the client left. */
async function stream(res, head, chat, pieces, body, usage) {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' })
  const write = (chunk) => res.write(`data: ${JSON.stringify(chunk)}\n\n`)
  const choice = (text, finish) =>
    chat
      ? {
          index: 0,
          delta: text === null ? { role: 'assistant', content: '' } : { content: text },
          logprobs: null,
          finish_reason: finish,
        }
      : { index: 0, text, logprobs: null, finish_reason: finish, stop_reason: null }
  if (chat) write({ ...head, choices: [choice(null, null)] })
  for (const [i, piece] of pieces.entries()) {
    // A client that went away stops the generation, as vLLM aborts the request.
    if (res.destroyed) return false
    write({ ...head, choices: [choice(piece, i === pieces.length - 1 ? 'length' : null)] })
    await new Promise((resolve) => setImmediate(resolve))
  }
  if (body.stream_options?.include_usage) write({ ...head, choices: [], usage })
  res.end('data: [DONE]\n\n')
  return true
}
