import { Agent, request, type Dispatcher } from 'undici'
import type { AdminEvent, DockerStatus, ModelView, SwitchView } from '../contract/admin.js'
import type { SignInCodeView } from '../contract/console.js'
import type { KeyCreateBody, KeyCreated } from '../contract/keys.js'
import type { Diagnosis } from '../contract/model.js'

/** Requests the gateway answers at once get this long; start and stop wait as long as the gateway holds them. */
const QUICK_TIMEOUT_MS = 10_000

export type AdminErrorKind = 'unreachable' | 'timeout' | 'no_token' | 'unauthorized' | 'api' | 'bad_response'

/** Why a start failed, as the `model_start_failed` envelope carries it beside `error.message`. */
export type StartDiagnosis = Pick<Diagnosis, 'cause' | 'exitCode' | 'logTail'>

/** A request to the gateway that did not give what was asked; connection.ts puts it in words for a person. */
export class AdminError extends Error {
  override readonly name = 'AdminError'
  constructor(
    readonly kind: AdminErrorKind,
    message: string,
    readonly details: { status?: number; code?: string | null; diagnosis?: StartDiagnosis; cause?: unknown } = {},
  ) {
    super(message, { cause: details.cause })
  }
}

export interface Snapshot {
  models: ModelView[]
  docker: DockerStatus
}

interface RequestOptions {
  auth?: boolean
  /** false for calls the gateway holds until an engine settles. */
  quick?: boolean
  accept?: string
  /** Sent as JSON. */
  body?: unknown
  /** Ends the request early (a stream the caller no longer follows). */
  signal?: AbortSignal
}

/** The admin API (`<url>/admin/api`) and the gateway's health route, for the `cortex` commands. */
export class AdminClient {
  // undici's default 300 s headers timeout would cut a long `start?wait=true` (a vLLM load takes minutes).
  private readonly agent = new Agent({ headersTimeout: 0, bodyTimeout: 0 })

  constructor(
    /** The gateway's root, e.g. http://127.0.0.1:31313, without a trailing slash. */
    readonly url: string,
    private readonly token: string | null,
  ) {}

  /** Resolves with the HTTP status of `GET /health` once anything answers there. */
  async health(): Promise<number> {
    const sent = await this.send('GET', '/health', { auth: false })
    await this.read(sent, '/health')
    return sent.res.statusCode
  }

  async listModels(): Promise<ModelView[]> {
    return (await this.json<{ data: ModelView[] }>('GET', '/admin/api/models')).data
  }

  /** Resolves once the model runs; a failed start rejects with kind `api`, the gateway's message and its diagnosis. */
  startModel(id: string): Promise<ModelView> {
    return this.json('POST', `/admin/api/models/${encodeURIComponent(id)}/start?wait=true`, { quick: false })
  }

  stopModel(id: string): Promise<ModelView> {
    return this.json('POST', `/admin/api/models/${encodeURIComponent(id)}/stop`, { quick: false })
  }

  /** One operation: stops the models the target would share GPUs with (unless pinned) and starts it (202). */
  switchModel(id: string): Promise<SwitchView> {
    return this.json('POST', `/admin/api/models/${encodeURIComponent(id)}/switch`, { quick: false })
  }

  pinModel(id: string, pinned: boolean): Promise<ModelView> {
    return this.json('POST', `/admin/api/models/${encodeURIComponent(id)}/${pinned ? 'pin' : 'unpin'}`)
  }

  /** A one-time console sign-in code (5 minutes, single use): `<url>/?code=…` signs a browser in. */
  signInCode(): Promise<SignInCodeView> {
    return this.json('POST', '/admin/api/auth/codes')
  }

  createKey(body: KeyCreateBody): Promise<KeyCreated> {
    return this.json('POST', '/admin/api/keys', { body })
  }

  /** Pauses or resumes `/v1` inference; answers whether it is paused now. */
  setPaused(paused: boolean): Promise<{ paused: boolean }> {
    return this.json('POST', paused ? '/admin/api/pause' : '/admin/api/resume')
  }

  paused(): Promise<{ paused: boolean }> {
    return this.json('GET', '/admin/api/serving')
  }

  /**
   * Follows `GET /events`: each event (the snapshot first) goes to `onEvent` until `signal` aborts or the stream ends;
   * resolves when it ends, rejects with an AdminError when it cannot open or breaks.
   */
  async followEvents(onEvent: (e: AdminEvent) => void, signal: AbortSignal): Promise<void> {
    const path = '/admin/api/events'
    const sent = await this.send('GET', path, { accept: 'text/event-stream', quick: false, signal })
    if (sent.res.statusCode !== 200) return this.fail(sent, path)
    for await (const data of eventData(sent, path)) {
      const event = parseJson(data) as AdminEvent | undefined
      if (event !== undefined && typeof event.type === 'string') onEvent(event)
    }
  }

  /** The first event of `GET /events`, which the gateway sends at once: the models and Docker's status. */
  async snapshot(): Promise<Snapshot> {
    const path = '/admin/api/events'
    const sent = await this.send('GET', path, { accept: 'text/event-stream' })
    if (sent.res.statusCode !== 200) return this.fail(sent, path)
    const data = await this.firstEventData(sent, path)
    const event = parseJson(data) as { type?: unknown; models?: unknown; docker?: unknown } | undefined
    if (event?.type === 'snapshot' && Array.isArray(event.models) && typeof event.docker === 'object' && event.docker)
      return event as Snapshot
    throw new AdminError('bad_response', `GET ${path} did not start with a snapshot event (got ${data.slice(0, 200)})`)
  }

  close(): Promise<void> {
    return this.agent.close()
  }

  private async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const sent = await this.send(method, path, options)
    if (sent.res.statusCode >= 300) return this.fail(sent, path)
    const value = parseJson(await this.read(sent, path))
    if (value === undefined)
      throw new AdminError('bad_response', `${method} ${path} answered ${sent.res.statusCode} with no JSON`)
    return value as T
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<Sent> {
    const { auth = true, quick = true, accept = 'application/json', body } = options
    if (auth && this.token === null) throw new AdminError('no_token', 'no admin token')
    const timeout = quick ? AbortSignal.timeout(QUICK_TIMEOUT_MS) : undefined
    const signal = timeout && options.signal ? AbortSignal.any([timeout, options.signal]) : (timeout ?? options.signal)
    const headers: Record<string, string> = { accept }
    if (auth) headers.authorization = `Bearer ${this.token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    try {
      const res = await request(`${this.url}${path}`, {
        method: method as Dispatcher.HttpMethod,
        headers,
        signal,
        ...(body !== undefined && { body: JSON.stringify(body) }),
        dispatcher: this.agent,
      })
      return { res, signal }
    } catch (err) {
      throw connectionError(err, signal)
    }
  }

  private async read({ res, signal }: Sent, path: string): Promise<string> {
    try {
      return await res.body.text()
    } catch (err) {
      throw connectionError(err, signal, `reading the answer to ${path}`)
    }
  }

  /** The data of the stream's first event that has any (comments and `retry:` frames have none). */
  private async firstEventData(sent: Sent, path: string): Promise<string> {
    // Returning from the loop destroys the body, which closes the stream the gateway would otherwise keep open.
    for await (const data of eventData(sent, path)) return data
    throw new AdminError('bad_response', `GET ${path} ended before its first event`)
  }

  /** Turns an answer of 300 or more into an AdminError: 401 is the token; the envelope's code and message otherwise. */
  private async fail(sent: Sent, path: string): Promise<never> {
    const text = await this.read(sent, path)
    const error = (parseJson(text) as { error?: Envelope } | undefined)?.error
    const status = sent.res.statusCode
    if (typeof error?.message !== 'string') {
      throw new AdminError('bad_response', `${path} answered HTTP ${status}: ${text.slice(0, 200) || '(empty body)'}`, { status })
    }
    const code = typeof error.code === 'string' ? error.code : null
    if (status === 401) throw new AdminError('unauthorized', error.message, { status, code })
    throw new AdminError('api', error.message, { status, code, diagnosis: diagnosisOf(error) })
  }
}

interface Sent {
  res: Dispatcher.ResponseData
  signal: AbortSignal | undefined
}

/** The data of each server-sent event of the answer that has any (comments and `retry:` frames have none). */
async function* eventData({ res, signal }: Sent, path: string): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let buffered = ''
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      // A CR at the end of a chunk may be the first half of a CRLF: it waits for the next chunk.
      buffered = (buffered + decoder.decode(chunk, { stream: true })).replace(/\r\n|\r(?!$)/g, '\n')
      let end
      while ((end = buffered.indexOf('\n\n')) !== -1) {
        const data = sseData(buffered.slice(0, end))
        buffered = buffered.slice(end + 2)
        if (data !== null) yield data
      }
    }
  } catch (err) {
    if (signal?.aborted && !(signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError')) return
    throw connectionError(err, signal, `reading ${path}`)
  }
}

interface Envelope {
  message?: unknown
  code?: unknown
  diagnosis?: Record<string, unknown>
}

/** http/errors.ts writes `exit_code` and `log_tail` (snake case, like the rest of the OpenAI envelope). */
function diagnosisOf(error: Envelope): StartDiagnosis | undefined {
  const d = error.diagnosis
  if (typeof d !== 'object' || d === null) return undefined
  const tail = d.log_tail
  const exitCode = d.exit_code
  return {
    cause: typeof d.cause === 'string' ? d.cause : 'unknown',
    exitCode: typeof exitCode === 'number' ? exitCode : null,
    logTail: Array.isArray(tail) ? tail.map(String) : [],
  }
}

function connectionError(err: unknown, signal: AbortSignal | undefined, doing = 'connecting'): AdminError {
  if (signal?.aborted) {
    return new AdminError('timeout', `no answer within ${QUICK_TIMEOUT_MS / 1000}s`, { cause: err })
  }
  const detail = err instanceof Error ? err.message : String(err)
  return new AdminError('unreachable', `${doing}: ${detail}`, { cause: err })
}

/** The data of one SSE frame (its `data:` lines joined), or null when it has none. */
function sseData(frame: string): string | null {
  const lines = frame
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
  return lines.length > 0 ? lines.join('\n') : null
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}
