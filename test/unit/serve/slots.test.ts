// The service's queue: at most n holders, first come first served, waiters leave on timeout or abort.
import { describe, expect, it } from 'vitest'
import { slots } from '../../../src/serve/slots.js'

describe('slots', () => {
  it('never lets more than n run, and serves waiters in arrival order', async () => {
    const s = slots(2)
    let running = 0
    let peak = 0
    const order: number[] = []
    const job = async (k: number): Promise<void> => {
      expect(await s.acquire(10_000)).toBe('acquired')
      order.push(k)
      running++
      peak = Math.max(peak, running)
      await new Promise((r) => setTimeout(r, 2))
      running--
      s.release()
    }
    await Promise.all(Array.from({ length: 20 }, (_, k) => job(k)))
    expect(peak).toBe(2)
    expect(order).toEqual(Array.from({ length: 20 }, (_, k) => k))
    expect(s.stats()).toEqual({ running: 0, waiting: 0 })
  })

  it('a waiter times out or is aborted without taking a slot; the next one still gets it', async () => {
    const s = slots(1)
    expect(await s.acquire(0)).toBe('acquired')
    expect(await s.acquire(0)).toBe('timedOut')
    expect(await s.acquire(20)).toBe('timedOut')
    const ac = new AbortController()
    const aborted = s.acquire(10_000, ac.signal)
    const next = s.acquire(10_000)
    expect(s.stats()).toEqual({ running: 1, waiting: 2 })
    ac.abort()
    expect(await aborted).toBe('aborted')
    s.release()
    expect(await next).toBe('acquired')
    expect(s.stats()).toEqual({ running: 1, waiting: 0 })
    s.release()
    expect(s.stats()).toEqual({ running: 0, waiting: 0 })
    expect(await s.acquire(0, AbortSignal.abort())).toBe('aborted')
  })
})
