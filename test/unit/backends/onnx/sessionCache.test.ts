import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { ElemType, type Graph } from '../../../../src/backends/onnx/graph/ir.js'
import { sessionCache, type Made } from '../../../../src/backends/onnx/sessionCache.js'
import { sessionCost } from '../../../../src/backends/onnx/sessionCost.js'
import { err } from '../../../../src/core/errors.js'

/** A cache over plain strings whose release calls are recorded in order. */
const recorded = (maxBytes: number, maxEntries = 100) => {
  const released: string[] = []
  const made: string[] = []
  const cache = sessionCache<string>({ maxBytes, maxEntries }, async (v) => { released.push(v) })
  const entry = (name: string, cost: number) => (): Made<string> => {
    made.push(name)
    return { cost, value: Promise.resolve(E.right(name)) }
  }
  /** Acquires and gives back at once (a finished call). */
  const use = async (name: string, cost = 40): Promise<void> => {
    const l = cache.acquire(name, entry(name, cost))
    await l.value
    l.end()
  }
  return { cache, released, made, entry, use }
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0))

describe('session cache', () => {
  it('evicts the least recently used entries once the byte bound is passed, and releases them', async () => {
    const { cache, released, use } = recorded(100)
    await use('a')
    await use('b')
    await use('a') // a is now more recent than b
    expect(cache.stats()).toEqual({ keys: ['b', 'a'], bytes: 80 })
    await use('c') // 120 > 100: b goes
    await settle()
    expect(released).toEqual(['b'])
    expect(cache.stats()).toEqual({ keys: ['a', 'c'], bytes: 80 })
    await use('d', 70) // 150: a, then c go
    await settle()
    expect(released).toEqual(['b', 'a', 'c'])
    expect(cache.stats()).toEqual({ keys: ['d'], bytes: 70 })
  })

  it('bounds the number of entries too', async () => {
    const { cache, released, use } = recorded(1e12, 2)
    for (const k of ['a', 'b', 'c', 'd']) await use(k, 1)
    await settle()
    expect(released).toEqual(['a', 'b'])
    expect(cache.stats().keys).toEqual(['c', 'd'])
  })

  it('a hit reuses the entry without making it again', async () => {
    const { made, use } = recorded(100)
    await use('a')
    await use('a')
    await use('a')
    expect(made).toEqual(['a'])
  })

  it('keeps the newest entry even when it alone is over the bound', async () => {
    const { cache, released, use } = recorded(100)
    await use('a')
    await use('big', 500)
    await settle()
    expect(released).toEqual(['a'])
    expect(cache.stats()).toEqual({ keys: ['big'], bytes: 500 })
    await use('big', 500)
    expect(released).toEqual(['a'])
  })

  it('never releases an entry while a lease on it is held; releases it when the lease ends', async () => {
    const { cache, released, entry, use } = recorded(50)
    const held = cache.acquire('a', entry('a', 40))
    await held.value
    await use('b') // evicts a, which is still in use
    await settle()
    expect(cache.stats().keys).toEqual(['b'])
    expect(released).toEqual([])
    held.end()
    await settle()
    expect(released).toEqual(['a'])
    held.end() // a second end changes nothing
    await settle()
    expect(released).toEqual(['a'])
  })

  it('two leases on one entry: released after the last one ends', async () => {
    const { cache, released, entry } = recorded(1000)
    const l1 = cache.acquire('a', entry('a', 1))
    const l2 = cache.acquire('a', entry('a', 1))
    const closed = cache.close()
    l1.end()
    await settle()
    expect(released).toEqual([])
    l2.end()
    await closed
    expect(released).toEqual(['a'])
  })

  it('close releases every entry and waits for those still leased', async () => {
    const { cache, released, entry, use } = recorded(1000)
    await use('a')
    const held = cache.acquire('b', entry('b', 40))
    let done = false
    const closed = cache.close().then(() => { done = true })
    await settle()
    expect(released).toEqual(['a'])
    expect(done).toBe(false)
    held.end()
    await closed
    expect(done).toBe(true)
    expect(released.sort()).toEqual(['a', 'b'])
    expect(cache.stats()).toEqual({ keys: [], bytes: 0 })
  })

  it('a failed creation is not kept and has nothing to release', async () => {
    const released: string[] = []
    let calls = 0
    const cache = sessionCache<string>({ maxBytes: 100, maxEntries: 10 }, async (v) => { released.push(v) })
    const failing = (): Made<string> => {
      calls++
      return { cost: 10, value: Promise.resolve(E.left(err('BadModel', 'no'))) }
    }
    const l = cache.acquire('a', failing)
    expect(E.isLeft(await l.value)).toBe(true)
    l.end()
    await settle()
    expect(cache.stats()).toEqual({ keys: [], bytes: 0 })
    cache.acquire('a', failing).end()
    expect(calls).toBe(2)
    await cache.close()
    expect(released).toEqual([])
  })
})

describe('session cost estimate', () => {
  it('is the initializer bytes plus one row of every node output (unknown shapes as large as the largest input)', () => {
    const g: Graph = {
      name: 'g',
      nodes: [
        { name: 'mm', opType: 'MatMul', domain: '', inputs: ['x', 'w'], outputs: ['h'], attributes: [] },
        { name: 'r', opType: 'Relu', domain: '', inputs: ['h'], outputs: ['y'], attributes: [] },
        { name: 'c', opType: 'Cast', domain: '', inputs: ['y'], outputs: ['z', ''], attributes: [] },
      ],
      inputs: [{ name: 'x', elemType: ElemType.FLOAT, shape: ['batch', 6] }],
      outputs: [{ name: 'z', elemType: ElemType.INT64, shape: ['batch', 5] }],
      initializers: new Map([
        ['w', { name: 'w', dims: [6, 5], dataType: ElemType.FLOAT, rawData: new Uint8Array(120) }],
        ['k', { name: 'k', dims: ['3'], dataType: ElemType.INT64, int64Data: [1, 2, 3] }],
      ]),
      valueInfo: [{ name: 'h', elemType: ElemType.FLOAT, shape: [null, 5] }],
      opsetImports: [{ domain: '', version: 17 }],
      irVersion: 8,
      modelExtras: {},
    }
    // weights 120 + 3·8; h has an unknown dim → 24 (x is 6 floats); y unknown → 24; z = 5 int64 = 40
    expect(sessionCost(g)).toBe(120 + 24 + 24 + 24 + 40)
  })
})
