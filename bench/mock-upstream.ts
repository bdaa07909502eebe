/**
 * Zero-delay OpenAI-style upstream for the bench, run as its own process so it never shares an event
 * loop with the load generator. Prints `MOCK_PORT=<port>` on stdout once listening.
 *
 *   POST /v1/chat/completions  validates the body (JSON, `nonce`, sha256 of `pad` = `pad_sha256`);
 *                              500 on a corrupt body. Non-stream: a small fixed completion whose id
 *                              echoes the nonce. `stream: true`: `mock_frames` content frames (default 64)
 *                              `mock_gap_ms` apart (default 20; 0 = one event-loop turn apart), then a
 *                              usage chunk (`"choices":[]`) and `data: [DONE]`.
 *   GET  /health, /v1/models   liveness and the model list (what Cortex health-polls).
 *   GET  /bench/stats          {requests, corrupt, lastCorruption} as counted here.
 */
import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'

interface ChatBody {
  nonce?: unknown
  pad?: unknown
  pad_sha256?: unknown
  stream?: unknown
  mock_frames?: unknown
  mock_gap_ms?: unknown
}

const stats = { requests: 0, corrupt: 0, lastCorruption: null as string | null }

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/** The parsed body, or a description of what is wrong with the bytes received. */
function validate(raw: Buffer): ChatBody | string {
  let body: ChatBody
  try {
    body = JSON.parse(raw.toString('utf8')) as ChatBody
  } catch (err) {
    return `invalid JSON (${raw.length} bytes): ${(err as Error).message}`
  }
  if (typeof body.nonce !== 'string' || body.nonce.length === 0) return 'missing nonce'
  if (typeof body.pad !== 'string' || typeof body.pad_sha256 !== 'string') return `nonce ${body.nonce}: missing pad or pad_sha256`
  const actual = createHash('sha256').update(body.pad).digest('hex')
  if (actual !== body.pad_sha256) return `nonce ${body.nonce}: pad sha256 mismatch (${body.pad.length} chars)`
  return body
}

function completion(nonce: string) {
  return {
    id: `chatcmpl-${nonce}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: 'mock',
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 8, completion_tokens: 1, total_tokens: 9 },
  }
}

function frame(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`
}

function stream(res: ServerResponse, nonce: string, frames: number, gapMs: number): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  const base = { id: `chatcmpl-${nonce}`, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: 'mock' }
  let sent = 0
  let gone = false
  // The client (or Cortex) went away: stop producing.
  res.once('close', () => (gone = true))
  const next = () => {
    if (gone) return
    if (sent < frames) {
      const last = sent === frames - 1
      const delta = sent === 0 ? { role: 'assistant', content: 't0' } : { content: ` t${sent}` }
      res.write(frame({ ...base, choices: [{ index: 0, delta, finish_reason: last ? 'stop' : null }] }))
      sent++
      if (gapMs > 0) setTimeout(next, gapMs)
      else setImmediate(next)
      return
    }
    res.write(frame({ ...base, choices: [], usage: { prompt_tokens: 8, completion_tokens: frames, total_tokens: 8 + frames } }))
    res.end('data: [DONE]\n\n')
  }
  next()
}

function chat(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    stats.requests++
    const body = validate(Buffer.concat(chunks))
    if (typeof body === 'string') {
      stats.corrupt++
      stats.lastCorruption = body
      json(res, 500, {
        error: { message: `mock upstream: corrupt request body: ${body}`, type: 'server_error', code: 'corrupt_body' },
      })
      return
    }
    const nonce = body.nonce as string
    if (body.stream === true) {
      const frames = typeof body.mock_frames === 'number' ? body.mock_frames : 64
      const gapMs = typeof body.mock_gap_ms === 'number' ? body.mock_gap_ms : 20
      stream(res, nonce, frames, gapMs)
    } else {
      json(res, 200, completion(nonce))
    }
  })
}

const server = createServer({ noDelay: true, keepAliveTimeout: 120_000 }, (req, res) => {
  const path = req.url?.split('?')[0]
  if (req.method === 'POST' && path === '/v1/chat/completions') return chat(req, res)
  if (req.method === 'GET' && path === '/health') return json(res, 200, { status: 'ok' })
  if (req.method === 'GET' && path === '/v1/models') {
    return json(res, 200, { object: 'list', data: [{ id: 'mock', object: 'model', created: 0, owned_by: 'bench' }] })
  }
  if (req.method === 'GET' && path === '/bench/stats') return json(res, 200, stats)
  req.resume()
  json(res, 404, { error: { message: `mock upstream: no route ${req.method} ${req.url}`, type: 'invalid_request_error' } })
})
server.headersTimeout = 0
server.requestTimeout = 0

server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  if (typeof address !== 'object' || address === null) throw new Error('mock upstream: no address')
  process.stdout.write(`MOCK_PORT=${address.port}\n`)
})

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.closeAllConnections()
    server.close(() => process.exit(0))
  })
}
