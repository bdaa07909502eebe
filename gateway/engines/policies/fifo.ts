/** A bounded FIFO with O(1) removal of any element (aborted waiters leave at once). No timers, no I/O. */
export class BoundedFifo<T> {
  private readonly items = new Set<T>()

  constructor(readonly limit: number) {}

  get length(): number {
    return this.items.size
  }

  /** False when full: the caller answers `queue_full`. */
  push(item: T): boolean {
    if (this.items.size >= this.limit) return false
    this.items.add(item)
    return true
  }

  remove(item: T): boolean {
    return this.items.delete(item)
  }

  /** Oldest first. */
  shift(): T | undefined {
    const first = this.items.values().next()
    if (first.done) return undefined
    this.items.delete(first.value)
    return first.value
  }

  /** Empties the queue, oldest first. */
  drain(): T[] {
    const all = [...this.items]
    this.items.clear()
    return all
  }
}
