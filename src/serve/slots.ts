/**
 * A counting semaphore with a first-come, first-served queue: at most `n` holders at once; a
 * released slot goes straight to the oldest waiter, so no waiter is skipped or lost. A waiter
 * leaves the queue when its deadline passes or its signal aborts.
 *
 * @category serve
 * @since 0.6.0
 */

/**
 * How a wait for a slot ended.
 *
 * @internal
 */
export type Acquired = 'acquired' | 'timedOut' | 'aborted'

/** @internal */
export interface Slots {
  /** Waits for a slot for at most `waitMs`; call `release` exactly once after `'acquired'`. */
  readonly acquire: (waitMs: number, signal?: AbortSignal) => Promise<Acquired>
  readonly release: () => void
  /** Holders now, and waiters now. */
  readonly stats: () => { readonly running: number; readonly waiting: number }
}

interface Waiter {
  readonly grant: () => void
}

/**
 * A semaphore of `n` slots.
 *
 * @internal
 */
export const slots = (n: number): Slots => {
  let running = 0
  const queue: Waiter[] = []
  const release = (): void => {
    const next = queue.shift()
    // The slot passes straight to the next waiter: `running` stays the same.
    if (next !== undefined) next.grant()
    else running--
  }
  const acquire = (waitMs: number, signal?: AbortSignal): Promise<Acquired> => {
    if (signal?.aborted === true) return Promise.resolve('aborted')
    if (running < n) {
      running++
      return Promise.resolve('acquired')
    }
    if (waitMs <= 0) return Promise.resolve('timedOut')
    return new Promise<Acquired>((resolve) => {
      const leave = (why: Acquired): void => {
        const i = queue.indexOf(waiter)
        if (i < 0) return
        queue.splice(i, 1)
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        resolve(why)
      }
      const onAbort = (): void => leave('aborted')
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          resolve('acquired')
        },
      }
      const timer = setTimeout(() => leave('timedOut'), waitMs)
      signal?.addEventListener('abort', onAbort, { once: true })
      queue.push(waiter)
    })
  }
  return { acquire, release, stats: () => ({ running, waiting: queue.length }) }
}
