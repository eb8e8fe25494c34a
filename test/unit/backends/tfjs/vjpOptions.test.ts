// The wider vjp options (issue 9) on the tfjs model kinds the conformance suite's GraphModel does
// not cover: `of` an output index on one-tensor and multi-output kinds, `wrt` lists on tapped
// functions and tf.Sequential, and the typed errors. The oracle for every value is a second
// vjp call of the old single-wrt form (itself checked against closed forms in model.test.ts) or
// a closed form; every call checks that no tensor is left behind.
import * as E from 'fp-ts/lib/Either.js'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs, type GraphModelLike } from '../../../../src/backends/tfjs/index.js'
import type { Model, Selector, VjpOptions, VjpResult } from '../../../../src/core/backend.js'
import type { AttributionError } from '../../../../src/core/errors.js'
import { float32 } from '../../../../src/core/tensor.js'
import { twoHeadGraphModel } from '../../../conformance/twoHead.js'

/** A linear selector with the seed all ones (Σ of the seeded tensor per row). */
const sumAll: Selector<tf.Tensor> = { kind: 'linear', seed: (shape) => E.right(float32(shape, new Array<number>(shape.reduce((a, b) => a * b, 1)).fill(1))) }

const release = (r: VjpResult<tf.Tensor>): void => [r.output, r.value, ...r.grads, ...Object.values(r.captured)].forEach((t) => t.dispose())

/** The call's result as plain arrays (value, grads, captured), with every returned tensor released. */
const vjpValues = async (m: Model<tf.Tensor>, inputs: readonly tf.Tensor[], options: VjpOptions<tf.Tensor>, selector: Selector<tf.Tensor> = sumAll) => {
  const r = await m.vjp(inputs, selector, options)()
  if (E.isLeft(r)) throw new Error(`${r.left._tag} at ${r.left.path.join('.')}: ${r.left.message}`)
  const out = { value: r.right.value.arraySync(), grads: r.right.grads.map((g) => g.arraySync()), captured: Object.fromEntries(Object.entries(r.right.captured).map(([k, v]) => [k, v.arraySync()])) }
  release(r.right)
  return out
}
const vjpError = async (m: Model<tf.Tensor>, inputs: readonly tf.Tensor[], options: VjpOptions<tf.Tensor>, selector: Selector<tf.Tensor> = sumAll): Promise<AttributionError> => {
  const r = await m.vjp(inputs, selector, options)()
  if (E.isRight(r)) {
    release(r.right)
    throw new Error('expected a typed error, got a result')
  }
  return r.left
}
const close = (a: unknown, e: unknown, tol = 1e-5): void => {
  const av = [a].flat(4) as number[]
  const ev = [e].flat(4) as number[]
  expect(av.length).toBe(ev.length)
  ev.forEach((v, i) => expect(Math.abs(av[i]! - v), `element ${i}: ${av[i]} vs ${v}`).toBeLessThan(tol * Math.max(1, Math.abs(v))))
}
/** Runs `body` and checks that the live tensor count is unchanged after it. */
const noLeak = async (body: () => Promise<void>): Promise<void> => {
  const before = tf.memory().numTensors
  await body()
  expect(tf.memory().numTensors).toBe(before)
}

let x: tf.Tensor2D
let w1: tf.Tensor2D
let w2: tf.Tensor2D
beforeAll(async () => {
  await tf.setBackend('cpu')
  x = tf.tensor2d([[1, -0.5, 0.25], [-0.75, 0.5, 1.5]])
  w1 = tf.tensor2d([[0.5, -0.25], [0.3, 0.2], [0.25, 0.4]])
  w2 = tf.tensor2d([[1, -0.5], [0.25, 0.75]])
})
afterAll(() => [x, w1, w2].forEach((t) => t.dispose()))

describe('of: an output index', () => {
  it('a function model has only output 0: index 0 is the default, index 1 is a typed Unsupported', async () => {
    const m = fromTfjs((a: tf.Tensor) => tf.matMul(a, w1))
    await noLeak(async () => {
      close((await vjpValues(m, [x], { wrt: { kind: 'inputs' }, of: { kind: 'output', index: 0 } })).grads, (await vjpValues(m, [x], { wrt: { kind: 'inputs' } })).grads)
      const e = await vjpError(m, [x], { wrt: { kind: 'inputs' }, of: { kind: 'output', index: 1 } })
      expect(e._tag).toBe('Unsupported')
      expect(e.path).toEqual(['of', 'index'])
      expect(e.message).toMatch(/returns one tensor.*LayersModel or GraphModel/)
    })
  })

  it('a functional LayersModel with two outputs: output 1 is seeded, output stays the explained one', async () => {
    const inp = tf.input({ shape: [3] })
    const d1 = tf.layers.dense({ units: 2, useBias: false, name: 'd1', kernelInitializer: 'zeros' })
    const d2 = tf.layers.dense({ units: 2, useBias: false, name: 'd2', kernelInitializer: 'zeros' })
    const lm = tf.model({ inputs: inp, outputs: [d1.apply(inp) as tf.SymbolicTensor, d2.apply(inp) as tf.SymbolicTensor] })
    ;(lm.getLayer('d1').getWeights()[0] as tf.Variable).assign(w1)
    ;(lm.getLayer('d2').getWeights()[0] as tf.Variable).assign(tf.mul(w1, -2))
    const m = fromTfjs(lm)
    await noLeak(async () => {
      const r = await m.vjp([x], sumAll, { wrt: { kind: 'inputs' }, of: { kind: 'output', index: 1 } })()
      if (E.isLeft(r)) throw new Error(r.left.message)
      close(r.right.output.arraySync(), tf.tidy(() => tf.matMul(x, w1).arraySync()))
      close(r.right.value.arraySync(), tf.tidy(() => tf.sum(tf.matMul(x, tf.mul(w1, -2)), 1).arraySync()))
      // d Σ(x·(−2W)) / dx = −2 · row sums of W, for every row
      const g = (w1.arraySync()).map((row) => -2 * (row[0]! + row[1]!))
      close(r.right.grads[0]!.arraySync(), [g, g])
      release(r.right)
      const e = await vjpError(m, [x], { wrt: { kind: 'inputs' }, of: { kind: 'output', index: 2 } })
      expect(e).toMatchObject({ _tag: 'UnknownTensor', path: ['of', 'index'] })
    })
    lm.dispose()
  })
})

describe('wrt lists on tapped functions and tf.Sequential', () => {
  // h1 = tanh(x·W1), h2 = h1 ⊙ h1, y = h2·W2 + x·W1 (a path from x that bypasses both layers)
  const tapped = fromTfjs({
    layers: ['h1', 'h2'],
    fn: (tap, a) => {
      const h1 = tap('h1', tf.tanh(tf.matMul(a, w1)))
      const h2 = tap('h2', tf.mul(h1, h1))
      return tf.add(tf.matMul(h2, w2), tf.matMul(a, w1))
    },
  })

  it('[input 0, layer h1, layer h2] equals the three single-wrt calls', async () => {
    await noLeak(async () => {
      const all = await vjpValues(tapped, [x], { wrt: [{ kind: 'input', index: 0 }, { kind: 'layer', name: 'h1' }, { kind: 'layer', name: 'h2' }] })
      close(all.grads[0], (await vjpValues(tapped, [x], { wrt: { kind: 'inputs' } })).grads[0])
      close(all.grads[1], (await vjpValues(tapped, [x], { wrt: { kind: 'layer', name: 'h1' } })).grads[0])
      close(all.grads[2], (await vjpValues(tapped, [x], { wrt: { kind: 'layer', name: 'h2' } })).grads[0])
      // h1 reaches y only through h2: a run that cut the graph at h2 would give 0 here
      expect(Math.abs((all.grads[1] as number[][])[0]![0]!)).toBeGreaterThan(1e-3)
    })
  })

  it('of a tapped tensor with an fn selector: the selector sees that tensor', async () => {
    await noLeak(async () => {
      const shapes: number[][] = []
      const sel: Selector<tf.Tensor> = { kind: 'fn', fn: (t) => { shapes.push([...t.shape]); return tf.sum(tf.square(t), 1) } }
      const r = await vjpValues(tapped, [x], { wrt: [{ kind: 'layer', name: 'h1' }], of: { kind: 'tensor', name: 'h2' } }, sel)
      expect(shapes).toEqual([[2, 2]])
      // d Σ h1⁴ / d h1 = 4 h1³
      const h1 = tf.tidy(() => tf.tanh(tf.matMul(x, w1)).arraySync() as number[][])
      close(r.grads[0], h1.map((row) => row.map((v) => 4 * v ** 3)))
      close(r.value, h1.map((row) => row.reduce((s, v) => s + v ** 4, 0)))
    })
  })

  it('a seeded tensor upstream of the differentiated layer is NotReachable, without leaks', async () => {
    await noLeak(async () => {
      const e = await vjpError(tapped, [x], { wrt: [{ kind: 'input', index: 0 }, { kind: 'layer', name: 'h2' }], of: { kind: 'tensor', name: 'h1' } })
      expect(e._tag).toBe('NotReachable')
    })
  })

  it('tf.Sequential: [input 0, layer dense] equals the two single-wrt calls', async () => {
    const s = tf.sequential()
    s.add(tf.layers.dense({ units: 2, inputShape: [3], useBias: false, name: 'dense', kernelInitializer: 'zeros' }))
    s.add(tf.layers.activation({ activation: 'tanh', name: 'act' }))
    ;(s.getLayer('dense').getWeights()[0] as tf.Variable).assign(w1)
    const m = fromTfjs(s)
    await noLeak(async () => {
      const both = await vjpValues(m, [x], { wrt: [{ kind: 'input', index: 0 }, { kind: 'layer', name: 'dense' }], capture: ['dense'] })
      close(both.grads[0], (await vjpValues(m, [x], { wrt: { kind: 'inputs' } })).grads[0])
      close(both.grads[1], (await vjpValues(m, [x], { wrt: { kind: 'layer', name: 'dense' } })).grads[0])
      close(both.captured['dense'], tf.tidy(() => tf.matMul(x, w1).arraySync()))
    })
    s.dispose()
  })
})

describe('typed errors on the wider options', () => {
  it('a layer entry or a seeded tensor on a function model: Unsupported at that entry / at of', async () => {
    const m = fromTfjs((a: tf.Tensor) => tf.matMul(a, w1))
    await noLeak(async () => {
      expect(await vjpError(m, [x], { wrt: [{ kind: 'input', index: 0 }, { kind: 'layer', name: 'h' }] })).toMatchObject({ _tag: 'Unsupported', path: ['wrt', '1'] })
      expect(await vjpError(m, [x], { wrt: { kind: 'inputs' }, of: { kind: 'tensor', name: 'h' } })).toMatchObject({ _tag: 'Unsupported', path: ['of', 'name'] })
    })
  })

  it('an int32 input entry is a DTypeMismatch at that entry', async () => {
    const m = fromTfjs((a: tf.Tensor, k: tf.Tensor) => tf.mul(tf.matMul(a, w1), tf.cast(k, 'float32')))
    const k = tf.tensor2d([[2], [3]], undefined, 'int32')
    await noLeak(async () => {
      expect(await vjpError(m, [x, k], { wrt: [{ kind: 'input', index: 0 }, { kind: 'input', index: 1 }] })).toMatchObject({ _tag: 'DTypeMismatch', path: ['wrt', '1'] })
    })
    k.dispose()
  })

  it('several GraphModel nodes need its topology: without one, Unsupported; one node still works', async () => {
    const g = twoHeadGraphModel()
    // the public API only: no `artifacts`, so the node order is unknown
    const bare: GraphModelLike = { inputNodes: g.inputNodes, outputNodes: g.outputNodes, inputs: g.inputs, outputs: g.outputs, execute: (i, o) => g.execute(i, o) }
    const m = fromTfjs(bare)
    await noLeak(async () => {
      expect(await vjpError(m, [x], { wrt: [{ kind: 'layer', name: 'h' }, { kind: 'layer', name: 'hm' }] })).toMatchObject({ _tag: 'Unsupported', path: ['wrt'] })
      close((await vjpValues(m, [x], { wrt: [{ kind: 'layer', name: 'h' }] })).grads[0], (await vjpValues(fromTfjs(g), [x], { wrt: { kind: 'layer', name: 'h' } })).grads[0])
    })
    g.dispose()
  })

  it('a rule set matching by name on a plain function (which names nothing) is Unsupported before anything runs', async () => {
    let ran = false
    const m = fromTfjs((a: tf.Tensor) => {
      ran = true
      return tf.matMul(a, w1)
    })
    await noLeak(async () => {
      const e = await vjpError(m, [x], { wrt: { kind: 'inputs' }, ruleSet: { name: 'deeplift-rescale', entries: [{ match: { node: 'h' }, rule: { rule: 'rescale' } }] } })
      expect(e).toMatchObject({ _tag: 'Unsupported', path: ['ruleSet', 'entries', '0'] })
      expect(e.message).toMatch(/"deeplift-rescale"/)
    })
    expect(ran).toBe(false)
  })

  it('a rule set with no entries on a linear function keeps the ordinary gradient (MatMul is pass-through)', async () => {
    const m = fromTfjs((a: tf.Tensor) => tf.matMul(a, w1))
    await noLeak(async () => {
      const ruled = await vjpValues(m, [x], { wrt: { kind: 'inputs' }, ruleSet: { name: 'empty', entries: [] } })
      const plain = await vjpValues(m, [x], { wrt: { kind: 'inputs' } })
      expect(ruled.grads).toEqual(plain.grads)
    })
  })
})
