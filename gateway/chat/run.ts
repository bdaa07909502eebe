import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { ChatMessageView, ChatParams, ChatStreamEvent } from '../contract/chat.js'
import { CortexError } from '../contract/errors.js'
import type { UsageRecord } from '../contract/usage.js'
import { openai } from '../proxy/dialects/openai.js'
import { proxy } from '../proxy/forward.js'
import type { Endpoint, Exchange, ProxyContext } from '../proxy/types.js'
import type { ChatRepo, MessageFigures, MessageRecord, MessageUpdate } from '../store/chats.js'
import { CapturedResponse } from './capture.js'
import { FrameReader } from './frames.js'
import { messageView } from './views.js'

const CHAT_ENDPOINT: Endpoint = { path: '/chat/completions', dialect: openai, requires: 'messages', requestUsage: true }
/** How often a streaming answer's text is written to the database: what a killed gateway can lose at most. */
const SAVE_EVERY_MS = 250

/** The engine refused the request (its status was not 200) before any token: nothing was saved. */
export class UpstreamRefusal extends Error {
  constructor(
    readonly status: number,
    readonly body: Buffer,
  ) {
    super(`the engine answered ${status}: ${body.toString('utf8', 0, 500)}`)
  }
}

export interface RunRequest {
  chatId: string
  user: { id: string; orgId: string | null }
  /** The user message saved once the engine answers; null when answering `answerParentId` again. */
  userMessage: { parentId: string | null; content: string } | null
  answerParentId: string | null
  model: string
  params: ChatParams
  /** The /v1/chat/completions body. */
  body: Buffer
}

export interface RunDeps {
  repo: ChatRepo
  proxy: ProxyContext
  logger: Logger
  /** Called when the engine answered and the messages exist (synchronously, before any token is read). */
  onStarted(run: AnswerRun): void
  onEnded(run: AnswerRun): void
}

type Listener = (event: ChatStreamEvent) => void

/**
 * One answer, from admission to its saved end, independent of any client: it goes through the proxy like a /v1
 * request (routing, limits, queue, cold start, usage row), into a CapturedResponse. Messages are saved only once the
 * engine answers 200, so a refusal (context too long, model loading) leaves the conversation as it was.
 */
export class AnswerRun {
  readonly requestId = randomUUID()
  userMessage: MessageRecord | null = null
  answer: MessageRecord | null = null
  /** Resolves when the messages are saved and tokens may flow; rejects with the refusal otherwise. */
  readonly started: Promise<void>
  /** The answer as saved at its end; null when it never started. */
  readonly finished: Promise<MessageRecord | null>
  private content = ''
  private reasoning = ''
  private streamError: string | null = null
  private refusedStatus = 0
  private readonly refusal: Buffer[] = []
  private usage: UsageRecord | null = null
  private stopped: { reason: string | null } | null = null
  private readonly listeners = new Set<Listener>()
  private saveTimer: NodeJS.Timeout | null = null
  private readonly reader = new FrameReader()
  private readonly res: CapturedResponse
  private resolveStarted!: () => void
  private rejectStarted!: (err: unknown) => void

  constructor(
    private readonly deps: RunDeps,
    readonly request: RunRequest,
  ) {
    this.started = new Promise((resolve, reject) => {
      this.resolveStarted = resolve
      this.rejectStarted = reject
    })
    this.res = new CapturedResponse({ head: (status) => this.head(status), body: (chunk) => this.body(chunk) })
    // Writes the proxy makes after a stop land on a destroyed stream; they are expected, not failures.
    this.res.on('error', (err) => deps.logger.debug({ err, requestId: this.requestId }, 'chat answer written after its stop'))
    this.finished = proxy(this.context(), this.exchange(), CHAT_ENDPOINT).then(
      () => this.finish(null),
      (err: unknown) => this.finish(err),
    )
  }

  get chatId(): string {
    return this.request.chatId
  }

  /** Aborts the upstream request (the engine stops generating) and keeps what arrived, cut off. `reason` is kept as
   *  the answer's error; null for a person's Stop. */
  stop(reason: string | null = null): void {
    this.stopped ??= { reason }
    this.res.destroy()
  }

  /** The answer so far, then its deltas and its end. */
  subscribe(listener: Listener): () => void {
    if (this.answer === null) throw new Error('AnswerRun.subscribe before the answer started')
    const user = this.userMessage === null ? null : messageView(this.userMessage)
    listener({ type: 'started', user, answer: this.view() })
    if (this.answer.state !== 'streaming') {
      listener({ type: 'done', message: this.view() })
      return () => undefined
    }
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** The answer with what has arrived so far (the database has it up to the last save). */
  view(): ChatMessageView {
    return messageView({ ...this.answer!, content: this.content, reasoning: this.reasoning === '' ? null : this.reasoning })
  }

  /** A chat's usage row belongs to its user (and their organization when the key has none). */
  private owned(row: UsageRecord): UsageRecord {
    const full: UsageRecord = { ...row, user: this.request.user.id, orgId: row.orgId ?? this.request.user.orgId }
    this.usage = full
    return full
  }

  private context(): ProxyContext {
    const base = this.deps.proxy
    return {
      ...base,
      usage: {
        record: (row) => base.usage.record(this.owned(row)),
        recordGrouped: (row) => base.usage.recordGrouped(this.owned(row)),
      },
    }
  }

  private exchange(): Exchange {
    return {
      id: this.requestId,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      search: '',
      body: this.request.body,
      // The console user is authenticated by the admin API; no API key's scopes or limits apply.
      key: null,
      res: this.res.asServerResponse(),
      log: this.deps.logger,
      setHeader: () => undefined,
      answerHeaders: () => ({}),
      takeOver: () => undefined,
      routed: () => undefined,
    }
  }

  private head(status: number): void {
    if (status !== 200) {
      this.refusedStatus = status
      return
    }
    const { repo } = this.deps
    const r = this.request
    if (r.userMessage !== null) {
      this.userMessage = repo.addMessage({ chatId: r.chatId, ...r.userMessage, role: 'user', state: 'complete' })
    }
    this.answer = repo.addMessage({
      chatId: r.chatId,
      parentId: this.userMessage?.id ?? r.answerParentId,
      role: 'assistant',
      content: '',
      state: 'streaming',
      model: r.model,
      params: r.params,
      requestId: this.requestId,
    })
    this.deps.onStarted(this)
    this.resolveStarted()
  }

  private body(chunk: Buffer): void {
    if (this.answer === null) {
      this.refusal.push(chunk)
      return
    }
    for (const read of this.reader.push(chunk)) {
      if (read.error !== undefined) {
        this.streamError = read.error
        continue
      }
      if (read.content !== undefined) this.content += read.content
      if (read.reasoning !== undefined) this.reasoning += read.reasoning
      this.emit({ type: 'delta', ...read })
    }
    this.saveSoon()
  }

  private saveSoon(): void {
    if (this.saveTimer !== null) return
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null
      this.save({})
    }, SAVE_EVERY_MS)
  }

  private save(update: MessageUpdate): void {
    try {
      this.deps.repo.updateMessage(this.answer!.id, {
        content: this.content,
        reasoning: this.reasoning === '' ? null : this.reasoning,
        ...update,
      })
    } catch (err) {
      this.deps.logger.error({ err, requestId: this.requestId }, 'saving a chat answer failed')
    }
  }

  private finish(err: unknown): MessageRecord | null {
    try {
      if (this.answer === null) {
        this.rejectStarted(err ?? this.notStarted())
        return null
      }
      if (this.saveTimer !== null) clearTimeout(this.saveTimer)
      this.saveTimer = null
      const status = this.usage?.status ?? null
      const failure =
        this.streamError ??
        (err instanceof Error ? err.message : null) ??
        (status === 200 ? null : `the answer ended with status ${status ?? 'unknown'}`)
      const end: Pick<MessageRecord, 'state' | 'error' | keyof MessageFigures> = {
        state: this.stopped !== null ? 'cut_off' : failure !== null ? 'failed' : 'complete',
        error: this.stopped !== null ? this.stopped.reason : failure,
        ttftMs: this.usage?.ttftMs ?? null,
        totalMs: this.usage?.totalMs ?? null,
        promptTokens: this.usage?.promptTokens ?? null,
        completionTokens: this.usage?.completionTokens ?? null,
      }
      this.save(end)
      this.answer = {
        ...this.answer,
        ...end,
        content: this.content,
        reasoning: this.reasoning === '' ? null : this.reasoning,
      }
      this.emit({ type: 'done', message: this.view() })
      this.listeners.clear()
      return this.answer
    } finally {
      this.deps.onEnded(this)
    }
  }

  private notStarted(): Error {
    if (this.refusedStatus !== 0) return new UpstreamRefusal(this.refusedStatus, Buffer.concat(this.refusal))
    // Stopped while waiting for admission: only the gateway's close does that, since no message exists to stop yet.
    return new CortexError('shutting_down', 'Cortex is shutting down; send the message again shortly', { retryAfterSeconds: 5 })
  }

  private emit(event: ChatStreamEvent): void {
    for (const listener of this.listeners) listener(event)
  }
}
