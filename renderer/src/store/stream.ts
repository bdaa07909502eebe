/**
 * An EventSource that reconnects with backoff. A browser's EventSource retries by itself after a dropped connection
 * but gives up for good on an HTTP error (a 401 after the session expired, a 502 from a restarting proxy), and retries
 * at a fixed pace; closing it on every error and opening a new one on our own schedule covers both.
 */

/** What this module needs of an EventSource (tests pass a fake). */
export interface EventSourceLike {
  onopen: ((ev: Event) => void) | null
  onerror: ((ev: Event) => void) | null
  addEventListener(type: string, listener: (ev: MessageEvent<string>) => void): void
  close(): void
}
export type EventSourceFactory = (url: string) => EventSourceLike

export const browserEventSource: EventSourceFactory = (url) => new EventSource(url, { withCredentials: true })

export interface StreamOptions {
  url: string
  /** Event names to listen to; 'message' is an unnamed event. */
  types: readonly string[]
  onMessage(type: string, data: string): void
  onState(state: 'connecting' | 'open' | 'reconnecting'): void
  /** Asked before each reconnect; false stops (the session is gone). Defaults to always. */
  shouldReconnect?: () => Promise<boolean>
  factory?: EventSourceFactory
  /** First delay after an error; doubled each failure up to maxDelayMs. */
  baseDelayMs?: number
  maxDelayMs?: number
}

export class ReconnectingStream {
  private source: EventSourceLike | null = null
  private timer: ReturnType<typeof setTimeout> | null = null
  private failures = 0
  private stopped = false

  constructor(private readonly opts: StreamOptions) {}

  start(): this {
    this.stopped = false
    this.open('connecting')
    return this
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.source?.close()
    this.source = null
  }

  /** The delay before the next attempt: 1 s, 2 s, 4 s … 30 s, with up to 20 % jitter so many tabs do not retry at once. */
  delayMs(): number {
    const base = this.opts.baseDelayMs ?? 1000
    const max = this.opts.maxDelayMs ?? 30_000
    const delay = Math.min(max, base * 2 ** Math.max(0, this.failures - 1))
    return delay + Math.random() * delay * 0.2
  }

  private open(state: 'connecting' | 'reconnecting'): void {
    this.opts.onState(state)
    const source = (this.opts.factory ?? browserEventSource)(this.opts.url)
    this.source = source
    source.onopen = () => {
      this.failures = 0
      this.opts.onState('open')
    }
    source.onerror = () => {
      if (this.source !== source) return
      source.close()
      this.source = null
      this.failures++
      this.opts.onState('reconnecting')
      this.timer = setTimeout(() => void this.retry(), this.delayMs())
    }
    for (const type of this.opts.types) source.addEventListener(type, (ev) => this.opts.onMessage(type, ev.data))
  }

  private async retry(): Promise<void> {
    this.timer = null
    const go = this.opts.shouldReconnect ? await this.opts.shouldReconnect().catch(() => true) : true
    if (this.stopped) return
    if (go) this.open('reconnecting')
    else this.stop()
  }
}
