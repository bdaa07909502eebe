/** The last `limit` lines of an engine's output (stdout and stderr interleaved as they arrive). */
export class LogRing {
  private readonly lines: string[] = []
  /** Lines ever pushed; a mark taken before a start attempt selects that attempt's lines. */
  private total = 0
  private readonly followers = new Set<(line: string) => void>()

  constructor(private readonly limit = 500) {}

  get written(): number {
    return this.total
  }

  push(line: string): void {
    this.total++
    this.lines.push(line)
    if (this.lines.length > this.limit) this.lines.splice(0, this.lines.length - this.limit)
    for (const fn of this.followers) fn(line)
  }

  /** Every line pushed from now on; returns the unsubscribe function. */
  follow(fn: (line: string) => void): () => void {
    this.followers.add(fn)
    return () => this.followers.delete(fn)
  }

  tail(n = this.limit): string[] {
    return n <= 0 ? [] : this.lines.slice(-n)
  }

  /** Lines pushed since `mark` (a past `written`) that are still held. */
  since(mark: number): string[] {
    return this.tail(this.total - mark)
  }
}
