import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { loadGraphModelSync } from '@tensorflow/tfjs-converter'
import { fromTfjs } from '../../../../src/backends/tfjs/index.js'
import type { Model, Selector, VjpResult } from '../../../../src/core/backend.js'
import type { AttributionError } from '../../../../src/core/errors.js'
import { float32 } from '../../../../src/core/tensor.js'

// W is 3×2; the oracles below compute x·W and its derivatives by hand, independently of tfjs.
const W = [
  [1, 2],
  [3, 4],
  [5, 6],
]
const X = [
  [1, 0, 0.5],
  [-1, 2, 1],
]
const xW = X.map((row) => [0, 1].map((j) => row.reduce((s, v, i) => s + v * W[i]![j]!, 0)))

/** A linear selector picking output column `targets[row]` per row (a one-hot seed). */
const targetsSel = (targets: readonly number[]): Selector<tf.Tensor> => ({
  kind: 'linear',
  seed: (shape) => {
    const [rows = 0, cols = 0] = shape
    const data = new Float32Array(rows * cols)
    targets.forEach((t, r) => (data[r * cols + t] = 1))
    return E.right(float32(shape, data))
  },
})

const run = async <A>(te: () => Promise<E.Either<AttributionError, A>>): Promise<A> => {
  const r = await te()
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`)
  return r.right
}
const fail = async <A>(te: () => Promise<E.Either<AttributionError, A>>): Promise<AttributionError> => {
  const r = await te()
  if (E.isRight(r)) throw new Error('expected a typed error, got a result')
  return r.left
}

const values = (t: tf.Tensor): number[][] | number[] => t.arraySync() as number[][] | number[]
const expectNested = (actual: unknown, expected: readonly (readonly number[])[] | readonly number[], tol = 1e-5): void => {
  const a = (actual as unknown[]).flat(3) as number[]
  const e = (expected as unknown[]).flat(3) as number[]
  expect(a.length).toBe(e.length)
  e.forEach((v, i) => expect(Math.abs(a[i]! - v), `element ${i}: ${a[i]} vs ${v}`).toBeLessThan(tol * Math.max(1, Math.abs(v))))
}

const disposeResult = (r: VjpResult<tf.Tensor>): void => {
  r.output.dispose()
  r.value.dispose()
  r.grads.forEach((g) => g.dispose())
  Object.values(r.captured).forEach((c) => c.dispose())
}

/** Runs `body` and checks that exactly `returned` tensors outlive it before the caller disposes them. */
const noLeak = async (body: () => Promise<{ returned: number; cleanup: () => void }>): Promise<void> => {
  const before = tf.memory().numTensors
  const { returned, cleanup } = await body()
  expect(tf.memory().numTensors).toBe(before + returned)
  cleanup()
  expect(tf.memory().numTensors).toBe(before)
}

let w: tf.Tensor2D
let x: tf.Tensor2D
beforeAll(async () => {
  await tf.setBackend('cpu')
  w = tf.tensor2d(W)
  x = tf.tensor2d(X)
})
afterAll(() => {
  w.dispose()
  x.dispose()
})

describe('fromTfjs: function models', () => {
  const linear = (): Model<tf.Tensor> => fromTfjs((a: tf.Tensor) => tf.matMul(a, w))

  it('forward returns x·W', async () => {
    const m = linear()
    await noLeak(async () => {
      const r = await run(m.forward([x]))
      expectNested(values(r.output), xW)
      return { returned: 1, cleanup: () => r.output.dispose() }
    })
  })

  it('vjp with per-example targets gives the matching columns of W', async () => {
    const m = linear()
    await noLeak(async () => {
      const r = await run(m.vjp([x], targetsSel([0, 1]), { wrt: { kind: 'inputs' } }))
      expectNested(values(r.output), xW)
      expectNested(values(r.value), [xW[0]![0]!, xW[1]![1]!])
      expect(r.grads).toHaveLength(1)
      expectNested(values(r.grads[0]!), [W.map((row) => row[0]!), W.map((row) => row[1]!)])
      return { returned: 3, cleanup: () => disposeResult(r) }
    })
  })

  it('vjp with an fn selector: value Σ y², gradient 2·y·Wᵀ', async () => {
    const m = linear()
    const sel: Selector<tf.Tensor> = { kind: 'fn', fn: (y) => tf.sum(tf.square(y), 1) }
    await noLeak(async () => {
      const r = await run(m.vjp([x], sel, { wrt: { kind: 'inputs' } }))
      expectNested(values(r.value), xW.map((y) => y[0]! ** 2 + y[1]! ** 2))
      expectNested(values(r.grads[0]!), xW.map((y) => W.map((wi) => 2 * (y[0]! * wi[0]! + y[1]! * wi[1]!))))
      return { returned: 3, cleanup: () => disposeResult(r) }
    })
  })

  it('differentiates the leading float inputs only; int extra args pass through', async () => {
    const m = fromTfjs((a: tf.Tensor, k: tf.Tensor) => tf.mul(tf.matMul(a, w), tf.cast(k, 'float32')))
    const k = tf.tensor2d([[2], [3]], undefined, 'int32')
    await noLeak(async () => {
      const r = await run(m.vjp([x, k], targetsSel([0, 0]), { wrt: { kind: 'inputs' } }))
      expect(r.grads).toHaveLength(1)
      expectNested(values(r.grads[0]!), [W.map((row) => 2 * row[0]!), W.map((row) => 3 * row[0]!)])
      return { returned: 3, cleanup: () => disposeResult(r) }
    })
    const e = await fail(fromTfjs((kk: tf.Tensor, a: tf.Tensor) => tf.matMul(a, w).mul(tf.cast(kk, 'float32'))).vjp([k, x], targetsSel([0, 0]), { wrt: { kind: 'inputs' } }))
    expect(e._tag).toBe('DTypeMismatch')
    expect(e.path).toEqual(['inputs', '0'])
    k.dispose()
  })

  it('an identity model returns an output the caller owns (not the input itself)', async () => {
    const m = fromTfjs((a: tf.Tensor) => a)
    const r = await run(m.vjp([x], targetsSel([1, 2]), { wrt: { kind: 'inputs' } }))
    expect(r.output).not.toBe(x)
    expectNested(values(r.grads[0]!), [[0, 1, 0], [0, 0, 1]])
    disposeResult(r)
    expect(x.isDisposed).toBe(false)
  })

  it('capture, inject and wrt layer are typed Unsupported errors', async () => {
    const m = linear()
    const before = tf.memory().numTensors
    expect((await fail(m.forward([x], { capture: ['h'] })))).toMatchObject({ _tag: 'Unsupported', path: ['capture'] })
    expect((await fail(m.forward([x], { inject: { h: x } })))).toMatchObject({ _tag: 'Unsupported', path: ['inject'] })
    const e = await fail(m.vjp([x], targetsSel([0, 0]), { wrt: { kind: 'layer', name: 'h' } }))
    expect(e._tag).toBe('Unsupported')
    expect(e.message).toMatch(/GraphModel/)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('NaN in the output is a NonFinite error, without leaks', async () => {
    const m = fromTfjs((a: tf.Tensor) => tf.log(tf.sub(a, 100)))
    const before = tf.memory().numTensors
    expect((await fail(m.forward([x])))._tag).toBe('NonFinite')
    expect((await fail(m.vjp([x], targetsSel([0, 0]), { wrt: { kind: 'inputs' } })))._tag).toBe('NonFinite')
    expect(tf.memory().numTensors).toBe(before)
  })

  it('an output that does not depend on the input is NotReachable; a thrown model error is BackendFailure', async () => {
    const c = tf.tensor2d([[1, 2], [3, 4]])
    const before = tf.memory().numTensors
    expect((await fail(fromTfjs(() => c.clone()).vjp([x], targetsSel([0, 0]), { wrt: { kind: 'inputs' } })))._tag).toBe('NotReachable')
    const bad = fromTfjs((a: tf.Tensor) => tf.matMul(a, a))
    expect((await fail(bad.forward([x])))._tag).toBe('BackendFailure')
    expect(tf.memory().numTensors).toBe(before)
    c.dispose()
  })

  it('a seed error comes back as the selector said, without leaks', async () => {
    const m = linear()
    const before = tf.memory().numTensors
    const sel: Selector<tf.Tensor> = { kind: 'linear', seed: () => E.left({ _tag: 'BadTarget', message: 'target 7 out of range', path: ['target'] }) }
    expect(await fail(m.vjp([x], sel, { wrt: { kind: 'inputs' } }))).toMatchObject({ _tag: 'BadTarget', path: ['target'] })
    expect(tf.memory().numTensors).toBe(before)
  })

  it('bytesPerRow is 64 × the input bytes of one row', () => {
    expect(linear().bytesPerRow?.([x])).toBe(64 * 3 * 4)
  })
})

describe('fromTfjs: LayersModel', () => {
  const tanhOf = (v: number): number => Math.tanh(v)
  const makeSequential = (): tf.Sequential => {
    const s = tf.sequential()
    s.add(tf.layers.dense({ units: 2, inputShape: [3], useBias: false, name: 'dense', kernelInitializer: 'zeros' }))
    s.add(tf.layers.activation({ activation: 'tanh', name: 'act' }))
    ;(s.getLayer('dense').getWeights()[0] as tf.Variable).assign(w)
    return s
  }
  let seq: tf.Sequential
  beforeAll(() => {
    seq = makeSequential()
  })
  afterAll(() => {
    seq.dispose()
  })

  it('reports a signature with layer names', () => {
    const m = fromTfjs(seq)
    expect(m.signature.layers).toEqual(['dense', 'act'])
    expect(m.signature.inputs[0]).toMatchObject({ dtype: 'float32', shape: [null, 3] })
  })

  it('forward with capture and vjp against tanh(x·W)', async () => {
    const m = fromTfjs(seq)
    await noLeak(async () => {
      const r = await run(m.forward([x], { capture: ['dense'] }))
      expectNested(values(r.output), xW.map((y) => y.map(tanhOf)))
      expectNested(values(r.captured['dense']!), xW)
      return { returned: 2, cleanup: () => [r.output, r.captured['dense']!].forEach((t) => t.dispose()) }
    })
    await noLeak(async () => {
      const r = await run(m.vjp([x], targetsSel([1, 0]), { wrt: { kind: 'inputs' } }))
      const d = [1 - Math.tanh(xW[0]![1]!) ** 2, 1 - Math.tanh(xW[1]![0]!) ** 2]
      expectNested(values(r.grads[0]!), [W.map((row) => d[0]! * row[1]!), W.map((row) => d[1]! * row[0]!)])
      return { returned: 3, cleanup: () => disposeResult(r) }
    })
  })

  it('vjp w.r.t. a layer and with the layer injected (Sequential)', async () => {
    const m = fromTfjs(seq)
    await noLeak(async () => {
      const r = await run(m.vjp([x], targetsSel([1, 0]), { wrt: { kind: 'layer', name: 'dense' }, capture: ['dense'] }))
      expectNested(values(r.grads[0]!), [[0, 1 - Math.tanh(xW[0]![1]!) ** 2], [1 - Math.tanh(xW[1]![0]!) ** 2, 0]])
      expectNested(values(r.captured['dense']!), xW)
      return { returned: 4, cleanup: () => disposeResult(r) }
    })
    const h = tf.tensor2d([[0.5, -1], [0, 2]])
    await noLeak(async () => {
      const r = await run(m.vjp([x], targetsSel([0, 1]), { wrt: { kind: 'layer', name: 'dense' }, inject: { dense: h } }))
      expectNested(values(r.output), [[Math.tanh(0.5), Math.tanh(-1)], [0, Math.tanh(2)]])
      expectNested(values(r.grads[0]!), [[1 - Math.tanh(0.5) ** 2, 0], [0, 1 - Math.tanh(2) ** 2]])
      return { returned: 3, cleanup: () => disposeResult(r) }
    })
    h.dispose()
  })

  it('a functional model: capture works, layer gradients are Unsupported, unknown layers are UnknownTensor', async () => {
    const a = tf.input({ shape: [3] })
    const hidden = tf.layers.dense({ units: 2, useBias: false, name: 'fdense', kernelInitializer: 'ones' }).apply(a) as tf.SymbolicTensor
    const out = tf.layers.activation({ activation: 'relu', name: 'frelu' }).apply(hidden) as tf.SymbolicTensor
    const fm = tf.model({ inputs: a, outputs: out })
    const m = fromTfjs(fm)
    const sums = X.map((r) => r.reduce((s, v) => s + v, 0))
    await noLeak(async () => {
      const r = await run(m.forward([x], { capture: ['fdense'] }))
      expectNested(values(r.captured['fdense']!), sums.map((s) => [s, s]))
      expectNested(values(r.output), sums.map((s) => [Math.max(s, 0), Math.max(s, 0)]))
      return { returned: 2, cleanup: () => [r.output, r.captured['fdense']!].forEach((t) => t.dispose()) }
    })
    const before = tf.memory().numTensors
    expect(await fail(m.vjp([x], targetsSel([0, 0]), { wrt: { kind: 'layer', name: 'fdense' } }))).toMatchObject({ _tag: 'Unsupported', path: ['wrt'] })
    expect((await fail(m.forward([x], { capture: ['nope'] })))._tag).toBe('UnknownTensor')
    expect(tf.memory().numTensors).toBe(before)
    await m.dispose()
    // dispose() drops the cached sub-model but leaves the user's model and weights alive.
    const y = fm.predict(x) as tf.Tensor
    expectNested(values(y), sums.map((s) => [Math.max(s, 0), Math.max(s, 0)]))
    y.dispose()
    fm.dispose()
  })
})

describe('fromTfjs: GraphModel', () => {
  // y = tanh(h) ⊙ h with h = x·W, written by hand as a TF GraphDef in tfjs's model.json form.
  const makeGraph = () =>
    loadGraphModelSync({
      format: 'graph-model',
      modelTopology: {
        node: [
          { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '3' }] } } } },
          { name: 'W', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '3' }, { size: '2' }] } } } } },
          { name: 'h', op: 'MatMul', input: ['x', 'W'], attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } } },
          { name: 'a', op: 'Tanh', input: ['h'], attr: { T: { type: 'DT_FLOAT' } } },
          { name: 'y', op: 'Mul', input: ['a', 'h'], attr: { T: { type: 'DT_FLOAT' } } },
        ],
        versions: { producer: 1 },
      },
      weightSpecs: [{ name: 'W', shape: [3, 2], dtype: 'float32' }],
      weightData: new Float32Array(W.flat()).buffer,
    })
  const f = (h: number): number => Math.tanh(h) * h
  const df = (h: number): number => (1 - Math.tanh(h) ** 2) * h + Math.tanh(h)

  it('signature, forward and capture of a node', async () => {
    const g = makeGraph()
    const m = fromTfjs(g)
    expect(m.signature.layers).toEqual(['h', 'a', 'y'])
    expect(m.signature.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: [null, 3] }])
    await noLeak(async () => {
      const r = await run(m.forward([x], { capture: ['h'] }))
      expectNested(values(r.output), xW.map((y) => y.map(f)))
      expectNested(values(r.captured['h']!), xW)
      return { returned: 2, cleanup: () => [r.output, r.captured['h']!].forEach((t) => t.dispose()) }
    })
    expect((await fail(m.forward([x], { capture: ['nope'] })))._tag).toBe('UnknownTensor')
    g.dispose()
  })

  it('vjp w.r.t. inputs and w.r.t. a node match the analytic derivative', async () => {
    const g = makeGraph()
    const m = fromTfjs(g)
    await noLeak(async () => {
      const r = await run(m.vjp([x], targetsSel([0, 1]), { wrt: { kind: 'inputs' } }))
      expectNested(values(r.value), [f(xW[0]![0]!), f(xW[1]![1]!)])
      expectNested(values(r.grads[0]!), [W.map((row) => df(xW[0]![0]!) * row[0]!), W.map((row) => df(xW[1]![1]!) * row[1]!)])
      return { returned: 3, cleanup: () => disposeResult(r) }
    })
    await noLeak(async () => {
      const r = await run(m.vjp([x], targetsSel([0, 1]), { wrt: { kind: 'layer', name: 'h' }, capture: ['h'] }))
      expectNested(values(r.grads[0]!), [[df(xW[0]![0]!), 0], [0, df(xW[1]![1]!)]])
      expectNested(values(r.captured['h']!), xW)
      return { returned: 4, cleanup: () => disposeResult(r) }
    })
    const h = tf.tensor2d([[0.1, 0.2], [-1, 1]])
    await noLeak(async () => {
      const r = await run(m.vjp([x], targetsSel([1, 0]), { wrt: { kind: 'layer', name: 'h' }, inject: { h } }))
      expectNested(values(r.output), [[f(0.1), f(0.2)], [f(-1), f(1)]])
      expectNested(values(r.grads[0]!), [[0, df(0.2)], [df(-1), 0]])
      return { returned: 3, cleanup: () => disposeResult(r) }
    })
    h.dispose()
    g.dispose()
  })
})

describe('fromTfjs on wasm: missing kernels are typed errors', () => {
  let previous: string
  beforeAll(async () => {
    previous = tf.getBackend()
    await tf.setBackend('wasm')
  })
  afterAll(async () => {
    await tf.setBackend(previous)
  })

  it('a depthwise-conv gradient names DepthwiseConv2dNativeBackpropInput and wasm, without leaks', async () => {
    const filter = tf.ones([2, 2, 1, 1]) as tf.Tensor4D
    const m = fromTfjs((a: tf.Tensor) => tf.reshape(tf.depthwiseConv2d(a as tf.Tensor4D, filter, 1, 'valid'), [-1, 4]))
    const img = tf.ones([1, 3, 3, 1])
    const before = tf.memory().numTensors
    const fwd = await run(m.forward([img]))
    expectNested(values(fwd.output), [[4, 4, 4, 4]])
    fwd.output.dispose()
    const e = await fail(m.vjp([img], targetsSel([0]), { wrt: { kind: 'inputs' } }))
    expect(e._tag).toBe('Unsupported')
    expect(e.message).toMatch(/DepthwiseConv2dNativeBackpropInput/)
    expect(e.message).toMatch(/'wasm'/)
    expect(e.message).toMatch(/setBackend/)
    expect(tf.memory().numTensors).toBe(before)
    img.dispose()
    filter.dispose()
  })

  it('the same model differentiates on wasm when it uses a plain conv2d', async () => {
    const filter = tf.ones([2, 2, 1, 1]) as tf.Tensor4D
    const m = fromTfjs((a: tf.Tensor) => tf.reshape(tf.conv2d(a as tf.Tensor4D, filter, 1, 'valid'), [-1, 4]))
    const img = tf.ones([1, 3, 3, 1])
    await noLeak(async () => {
      const r = await run(m.vjp([img], targetsSel([3]), { wrt: { kind: 'inputs' } }))
      // Output pixel (1,1) covers input pixels (1..2, 1..2).
      expectNested(values(r.grads[0]!).flat(3) as number[], [0, 0, 0, 0, 1, 1, 0, 1, 1])
      return { returned: 3, cleanup: () => disposeResult(r) }
    })
    img.dispose()
    filter.dispose()
  })
})
