// The wider vjp options (issue 9) on the ONNX backend, beyond the shared conformance cases: one
// session per wrt list, the rule set in the session key, and the ONNX-specific typed errors.
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOnnxRuntime, type OnnxRuntime } from '../../../../src/backends/onnx/session.js'
import type { Model, Selector, VjpOptions } from '../../../../src/core/backend.js'
import type { AttributionError } from '../../../../src/core/errors.js'
import { float32, int32, type HostTensor } from '../../../../src/core/tensor.js'
import { twoHeadOnnx, twoHeadOnnxBytes } from '../../../conformance/twoHead.js'

const x = float32([2, 3], [1, -0.5, 0.25, -0.75, 0.5, 1.5])
const ones = (shape: readonly number[]): HostTensor => float32(shape, new Array<number>(shape.reduce((a, b) => a * b, 1)).fill(1))
const sumAll: Selector<HostTensor> = { kind: 'linear', seed: (shape) => E.right(ones(shape)) }

const vjpError = async (m: Model<HostTensor>, inputs: readonly HostTensor[], options: VjpOptions<HostTensor>, selector: Selector<HostTensor> = sumAll): Promise<AttributionError> => {
  const r = await m.vjp(inputs, selector, options)()
  if (E.isRight(r)) throw new Error('expected a typed error, got a result')
  return r.left
}

describe('ONNX runtime: rule sets and wrt lists in the session cache', () => {
  let rt: OnnxRuntime
  beforeAll(async () => {
    const r = await createOnnxRuntime(twoHeadOnnxBytes())
    if (E.isLeft(r)) throw new Error(r.left.message)
    rt = r.right
  })
  afterAll(() => rt.dispose())

  it('a rule set leaving a node without a rule is UnsupportedOps and caches no session; the key of ordinary gradients says ruleSet null', async () => {
    const bad = await rt.vjp({ x }, { seeds: { y0: ones([2, 2]) }, wrt: ['x'], ruleSet: { name: 'lrp-epsilon', entries: [] } })
    expect(E.isLeft(bad) && bad.left).toMatchObject({ _tag: 'UnsupportedOps', path: ['ruleSet'], nodes: [{ name: 'h_node', opType: 'Tanh' }] })
    expect(E.isLeft(bad) && bad.left.message).toMatch(/rule set "lrp-epsilon" leaves 1 node/)
    // the failed session is dropped once its creation settles
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(rt.cacheStats().keys).toEqual([])
    const ok = await rt.vjp({ x }, { seeds: { y0: ones([2, 2]) }, wrt: ['x'] })
    expect(E.isRight(ok)).toBe(true)
    expect(rt.cacheStats().keys.map((k) => (JSON.parse(k) as { ruleSet: unknown }).ruleSet)).toEqual([null])
  })

  it('the session key holds the rule set and the reference layout: each combination gets its own session', async () => {
    const r = await createOnnxRuntime(twoHeadOnnxBytes())
    if (E.isLeft(r)) throw new Error(r.left.message)
    const plain = { name: 'plain', entries: [{ match: { opType: 'Tanh' }, rule: { rule: 'gradient' } }] } as const
    const x4 = float32([4, 3], [...x.data, ...x.data])
    const calls = [
      { ruleSet: plain },
      { ruleSet: plain, referenceRows: 'halves' as const },
      { ruleSet: { ...plain, name: 'plain2' } },
      { ruleSet: plain },
    ]
    for (const c of calls) {
      const out = await r.right.vjp({ x: x4 }, { seeds: { y0: ones([4, 2]) }, wrt: ['x'], ...c })
      expect(E.isRight(out), E.isLeft(out) ? out.left.message : '').toBe(true)
    }
    const keys = r.right.cacheStats().keys.map((k) => JSON.parse(k) as { ruleSet: string | null; referenceRows: string | null })
    expect(keys.map((k) => [k.ruleSet === null ? null : (JSON.parse(k.ruleSet) as { name: string }).name, k.referenceRows])).toEqual([
      ['plain', 'halves'],
      ['plain2', null],
      ['plain', null],
    ])
    await r.right.dispose()
  })
})

describe('fromOnnx: wrt lists and of', () => {
  let model: Model<HostTensor>
  let dispose: () => Promise<void>
  beforeAll(async () => {
    ;({ model, dispose } = await twoHeadOnnx())
  })
  afterAll(() => dispose())

  it('a wrt list runs as one backward session whose outputs are every gradient', async () => {
    const rt = await createOnnxRuntime(twoHeadOnnxBytes())
    if (E.isLeft(rt)) throw new Error(rt.left.message)
    const r = await rt.right.vjp({ x }, { seeds: { y1: ones([2, 2]) }, wrt: ['x', 'h', 'hm'] })
    if (E.isLeft(r)) throw new Error(r.left.message)
    expect(Object.keys(r.right.grads).sort()).toEqual(['h', 'hm', 'x'])
    const keys = rt.right.cacheStats().keys
    expect(keys).toHaveLength(1)
    expect((JSON.parse(keys[0]!) as { wrt: string[] }).wrt).toEqual(['x', 'h', 'hm'])
    await rt.right.dispose()
  })

  it('an int32 input entry is a DTypeMismatch at that entry, before anything runs', async () => {
    const e = await vjpError(model, [int32([2, 3], [1, 2, 3, 4, 5, 6])], { wrt: [{ kind: 'input', index: 0 }] })
    expect(e).toMatchObject({ _tag: 'DTypeMismatch', path: ['wrt', '0'] })
  })

  it('a seeded tensor upstream of the differentiated layer is NotReachable', async () => {
    const e = await vjpError(model, [x], { wrt: [{ kind: 'layer', name: 'h' }], of: { kind: 'tensor', name: 'hm' } })
    expect(e._tag).toBe('NotReachable')
  })

  it('a function selector stays Unsupported whatever is seeded; on a tensor it is a neuron selector and says so', async () => {
    const fn: Selector<HostTensor> = { kind: 'fn', fn: (t) => t }
    const onTensor = await vjpError(model, [x], { wrt: { kind: 'inputs' }, of: { kind: 'tensor', name: 'h' } }, fn)
    expect(onTensor).toMatchObject({ _tag: 'Unsupported', path: ['neuron'] })
    expect(onTensor.message).toMatch(/mask/)
    const onOutput = await vjpError(model, [x], { wrt: { kind: 'inputs' } }, fn)
    expect(onOutput).toMatchObject({ _tag: 'Unsupported', path: ['target'] })
  })
})
