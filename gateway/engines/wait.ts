/** Resolves after `ms`, or at once when `signal` aborts. Never rejects. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/**
 * A one-shot wait with a deadline and an AbortSignal. `settle` delivers a value; the returned promise rejects with
 * `onTimeout()` after `timeoutMs` (null = no timer) or with the signal's reason. `cleanup` runs exactly once.
 */
export function deadlineWait<T>(
  signal: AbortSignal,
  timeoutMs: number | null,
  onTimeout: () => Error,
  register: (settle: (value: T) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    let unregister = () => {}
    const finish = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      unregister()
    }
    const onAbort = () => {
      finish()
      reject(signal.reason)
    }
    const timer =
      timeoutMs === null
        ? undefined
        : setTimeout(
            () => {
              finish()
              reject(onTimeout())
            },
            Math.max(0, timeoutMs),
          )
    signal.addEventListener('abort', onAbort, { once: true })
    unregister = register((value) => {
      finish()
      resolve(value)
    })
  })
}

/** "Something changed": every waiter is woken by every `notify()` and re-checks what it waits for. */
export class ChangeSignal {
  private readonly waiters = new Set<() => void>()

  notify(): void {
    const woken = [...this.waiters]
    this.waiters.clear()
    for (const wake of woken) wake()
  }

  wait(signal: AbortSignal, timeoutMs: number | null, onTimeout: () => Error): Promise<void> {
    return deadlineWait<void>(signal, timeoutMs, onTimeout, (settle) => {
      const wake = () => settle()
      this.waiters.add(wake)
      return () => this.waiters.delete(wake)
    })
  }
}
