/**
 * A bounded, reference-counted cache of runtime sessions. Entries are kept in least-recently-used
 * order; when the summed cost estimate exceeds `maxBytes`, or there are more than `maxEntries`,
 * the least recently used entries leave the cache. A session that left the cache is released once
 * no call holds it any more: every user takes a lease (`acquire`) and gives it back (`end`) when
 * its run is over, so eviction or `close` never frees a session under a running call.
 *
 * The most recently acquired entry is never evicted by its own arrival, so a model whose single
 * session is larger than the bound still gets one cached session.
 *
 * @internal
 */
import * as E from 'fp-ts/lib/Either.js'
import type { AttributionError } from '../../core/errors.js'

export interface CacheLimits {
  /** Bound on the summed cost estimate of the cached entries. */
  readonly maxBytes: number
  /** Bound on the number of cached entries. */
  readonly maxEntries: number
}

/** A caller's hold on one entry; `end` must be called exactly once when the caller is done with it. */
export interface Lease<A> {
  readonly value: Promise<E.Either<AttributionError, A>>
  end(): void
}

/** What `acquire` needs to make a missing entry: its cost estimate and the (pending) value. */
export interface Made<A> {
  readonly cost: number
  readonly value: Promise<E.Either<AttributionError, A>>
}

export interface SessionCache<A> {
  acquire(key: string, make: () => Made<A>): Lease<A>
  /** Evicts everything and resolves once every session (including those still in use now) is released. */
  close(): Promise<void>
  /** Keys from least to most recently used, and their summed cost. */
  stats(): { readonly keys: readonly string[]; readonly bytes: number }
}

interface Slot<A> {
  readonly key: string
  readonly cost: number
  readonly value: Promise<E.Either<AttributionError, A>>
  users: number
  cached: boolean
  freeing: boolean
  /** Settles once the session has been released (or there was none to release). */
  readonly freed: Promise<void>
  readonly markFreed: () => void
}

export const sessionCache = <A>(limits: CacheLimits, release: (a: A) => Promise<void>): SessionCache<A> => {
  const slots = new Map<string, Slot<A>>()
  /** Entries out of the cache but still leased; released when their last lease ends. */
  const draining = new Set<Slot<A>>()
  let bytes = 0

  const free = (s: Slot<A>): void => {
    draining.delete(s)
    if (s.freeing) return
    s.freeing = true
    void s.value
      .then(async (r) => {
        if (E.isLeft(r)) return
        try {
          await release(r.right)
        } catch {
          // A failed release leaves nothing a caller could act on; the session is unreachable either way.
        }
      })
      .then(s.markFreed)
  }

  const drop = (s: Slot<A>): void => {
    if (!s.cached) return
    s.cached = false
    slots.delete(s.key)
    bytes -= s.cost
    if (s.users === 0) free(s)
    else draining.add(s)
  }

  const trim = (keep: Slot<A>): void => {
    for (const s of [...slots.values()]) {
      if (bytes <= limits.maxBytes && slots.size <= limits.maxEntries) return
      if (s !== keep) drop(s)
    }
  }

  const acquire = (key: string, make: () => Made<A>): Lease<A> => {
    let s = slots.get(key)
    if (s !== undefined) {
      // most recently used goes last
      slots.delete(key)
      slots.set(key, s)
    } else {
      const m = make()
      let markFreed = (): void => undefined
      const freed = new Promise<void>((resolve) => { markFreed = resolve })
      const slot: Slot<A> = { key, cost: m.cost, value: m.value, users: 0, cached: true, freeing: false, freed, markFreed }
      s = slot
      slots.set(key, slot)
      bytes += slot.cost
      // a failed creation is not kept, so the next call tries again
      void slot.value.then((r) => { if (E.isLeft(r)) drop(slot) })
      trim(slot)
    }
    const held = s
    held.users++
    let ended = false
    return {
      value: held.value,
      end: () => {
        if (ended) return
        ended = true
        held.users--
        if (held.users === 0 && !held.cached) free(held)
      },
    }
  }

  const close = async (): Promise<void> => {
    const all = [...slots.values()]
    for (const s of all) drop(s)
    // leased entries are released when their last lease ends; wait for those too
    await Promise.all([...all, ...draining].map((s) => s.freed))
  }

  return {
    acquire,
    close,
    stats: () => ({ keys: [...slots.keys()], bytes }),
  }
}
