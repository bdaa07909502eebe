import { expect } from 'vitest'

/** The error `p` rejects with; the test fails if it resolves. */
export function rejection<E = Error>(p: Promise<unknown>): Promise<E> {
  return p.then(
    () => expect.unreachable('expected a rejection, but the promise resolved'),
    (err: unknown) => err as E,
  )
}
