// Modified-backprop rule sets on the tfjs backend (issue 10): DeepLift's rescale, guided backprop
// and deconvolution through `vjp({ ruleSet, referenceRows })`. Oracles: multipliers and masked
// gradients written out by hand in plain JS, DeepLift's completeness (Σ (x − x′)·m = F(x) − F(x′)
// for nets of linear maps and rescaled activations), and Captum's recorded values (the
// ../shared/reference fixtures, on the tfjs rebuild of the same networks). Every call checks that
// no tensor is left behind and that tfjs's gradient registry and tape are as they were.
import { existsSync, readFileSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import * as tf from '@tensorflow/tfjs'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../../../src/backends/tfjs/index.js'
import type { Model, Selector, VjpOptions } from '../../../../src/core/backend.js'
import type { AttributionError } from '../../../../src/core/errors.js'
import { DECONVOLUTION, DEEPLIFT, GUIDED_BACKPROP, type RuleSet } from '../../../../src/core/ruleSet.js'
import { float32 } from '../../../../src/core/tensor.js'
import { buildTfjsReferenceModel } from '../../../../src/conformance/tfjsModels.js'
import { firstMaxRoute } from '../../../../src/backends/tfjs/modified/maxPoolRouting.js'
import '@tensorflow/tfjs-backend-wasm'
import { TWO_HEAD, twoHeadGraphModel } from '../../../conformance/twoHead.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

/** Seed: one-hot on `cls` for every row (the target tiled over both halves, as Captum's DeepLift does). */
const oneHot = (cls: number | readonly number[]): Selector<tf.Tensor> => ({
  kind: 'linear',
  seed: (shape) => {
    const [rows, k] = [shape[0]!, shape.slice(1).reduce((a, b) => a * b, 1)]
    const data = new Array<number>(rows * k).fill(0)
    for (let r = 0; r < rows; r++) data[r * k + (typeof cls === 'number' ? cls : cls[r % cls.length]!)] = 1
    return E.right(float32(shape, data))
  },
})
const sumAll: Selector<tf.Tensor> = { kind: 'linear', seed: (shape) => E.right(float32(shape, new Array<number>(shape.reduce((a, b) => a * b, 1)).fill(1))) }

interface Engine { gradientDepth: number; activeTape: unknown[] | null }
const engineState = (): Engine => tf.engine().state as unknown as Engine

/** Runs `f`; asserts no tensor leaked, the registry's gradients are the same objects and no tape is left. */
const clean = async <A>(f: () => Promise<A>): Promise<A> => {
  const kernels = ['Relu', 'Sigmoid', 'Tanh', 'MaxPool', 'Softmax', 'Erf']
  const registry = kernels.map((k) => tf.getGradient(k))
  const before = tf.memory().numTensors
  const out = await f()
  expect(tf.memory().numTensors).toBe(before)
  kernels.forEach((k, i) => expect(tf.getGradient(k)).toBe(registry[i]))
  expect(engineState().gradientDepth).toBe(0)
  expect(engineState().activeTape).toBeNull()
  return out
}

const grads = async (m: Model<tf.Tensor>, xs: readonly tf.Tensor[], sel: Selector<tf.Tensor>, o: VjpOptions<tf.Tensor>): Promise<number[][]> => {
  const r = await m.vjp(xs, sel, o)()
  if (E.isLeft(r)) throw new Error(`${r.left._tag} at ${r.left.path.join('.')}: ${r.left.message}`)
  const out = r.right.grads.map((g) => Array.from(g.dataSync()))
  ;[r.right.output, r.right.value, ...r.right.grads, ...Object.values(r.right.captured)].forEach((t) => t.dispose())
  return out
}
const failure = async (m: Model<tf.Tensor>, xs: readonly tf.Tensor[], o: VjpOptions<tf.Tensor>, sel: Selector<tf.Tensor> = sumAll): Promise<AttributionError> => {
  const r = await m.vjp(xs, sel, o)()
  if (E.isRight(r)) {
    ;[r.right.output, r.right.value, ...r.right.grads].forEach((t) => t.dispose())
    throw new Error('expected a typed error')
  }
  return r.left
}
const close = (a: readonly number[], b: readonly number[], tol = 1e-5): void => {
  expect(a.length).toBe(b.length)
  a.forEach((v, i) => expect(Math.abs(v - b[i]!), `element ${i}: ${v} vs ${b[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(b[i]!))))
}
const fval = async (m: Model<tf.Tensor>, x: tf.Tensor): Promise<number[]> => {
  const r = await m.forward([x])()
  if (E.isLeft(r)) throw new Error(r.left.message)
  const v = Array.from(r.right.output.dataSync())
  r.right.output.dispose()
  return v
}

const DL = { ruleSet: DEEPLIFT, referenceRows: 'halves' as const, wrt: { kind: 'inputs' as const } }

// small fixed weights: 3 → 4 → 2
const W1 = [[0.5, -1, 0.25, 2], [-0.5, 0.75, 1, -1.5], [1, 0.5, -0.25, 0.5]]
const W2 = [[1, -0.5], [-2, 0.25], [0.5, 1], [-1, 0.75]]
const X = [[1, -0.5, 0.25], [-0.75, 0.5, 1.5]]
const REF = [[0.1, 0.2, -0.3], [0, 0, 0]]
const mm = (a: number[][], b: number[][]): number[][] => a.map((r) => b[0]!.map((_, j) => r.reduce((s, v, k) => s + v * b[k]![j]!, 0)))
const fround = (m: number[][]): number[][] => m.map((r) => r.map(Math.fround))

describe('rescale (DeepLift) multipliers by hand', () => {
  const acts = {
    Sigmoid: { tf: tf.sigmoid, js: (v: number) => 1 / (1 + Math.exp(-v)) },
    Tanh: { tf: tf.tanh, js: Math.tanh },
    Relu: { tf: tf.relu, js: (v: number) => Math.max(0, v) },
    Softplus: { tf: tf.softplus, js: (v: number) => Math.log1p(Math.exp(v)) },
    Elu: { tf: tf.elu, js: (v: number) => (v > 0 ? v : Math.exp(v) - 1) },
    LeakyRelu: { tf: (t: tf.Tensor) => tf.leakyRelu(t, 0.2), js: (v: number) => (v > 0 ? v : 0.2 * v) },
  } as const
  it.each(Object.keys(acts) as (keyof typeof acts)[])('%s: grad_x = W1 · (Δσ/Δh ⊙ W2·seed), same for both halves', async (name) => {
    const a = acts[name]
    const w1 = tf.tensor2d(W1)
    const w2 = tf.tensor2d(W2)
    const m = fromTfjs((x: tf.Tensor) => tf.matMul(a.tf(tf.matMul(x, w1)), w2))
    const xs = tf.tensor2d([...X, ...REF])
    const g = await clean(() => grads(m, [xs], oneHot(1), DL))
    // by hand
    const h = mm(fround(X), W1)
    const hr = mm(fround(REF), W1)
    const expectRow = (i: number): number[] => {
      const mult = h[i]!.map((v, j) => (Math.abs(v - hr[i]![j]!) < 1e-10 ? NaN : (a.js(v) - a.js(hr[i]![j]!)) / (v - hr[i]![j]!)))
      const gh = mult.map((mu, j) => mu * W2[j]![1]!)
      return W1.map((row) => row.reduce((s, w, j) => s + w * gh[j]!, 0))
    }
    close(g[0]!, [...expectRow(0), ...expectRow(1), ...expectRow(0), ...expectRow(1)], 1e-4)
    // and it is not the plain gradient
    const plain = await grads(m, [xs], oneHot(1), { wrt: { kind: 'inputs' } })
    expect(plain[0]!.some((v, i) => Math.abs(v - g[0]![i]!) > 1e-3)).toBe(true)
    xs.dispose(); w1.dispose(); w2.dispose()
  })

  it('where a row equals its reference (|Δin| < 1e-10) the ordinary gradient is used', async () => {
    const w1 = tf.tensor2d(W1)
    const m = fromTfjs((x: tf.Tensor) => tf.sum(tf.tanh(tf.matMul(x, w1)), 1, true))
    const xs = tf.tensor2d([X[0]!, X[0]!])
    const g = await clean(() => grads(m, [xs], sumAll, DL))
    const plain = await grads(m, [xs], sumAll, { wrt: { kind: 'inputs' } })
    close(g[0]!, plain[0]!)
    xs.dispose(); w1.dispose()
  })

  it('Softmax: the rescaled gradient minus its mean over the whole tensor (Captum)', async () => {
    const m = fromTfjs((x: tf.Tensor) => tf.softmax(x))
    const xs = tf.tensor2d([[1, 2, 0.5], [0, 0, 0]])
    const g = await clean(() => grads(m, [xs], oneHot(0), DL))
    const sm = (r: number[]) => r.map((v) => Math.exp(v) / r.reduce((s, u) => s + Math.exp(u), 0))
    const [y, yr] = [sm([1, 2, 0.5]), sm([0, 0, 0])]
    const raw = [0, 1, 2].map((j) => (j === 0 ? (y[j]! - yr[j]!) / ([1, 2, 0.5][j]! - 0) : 0))
    const all = [...raw, ...raw]
    const mean = all.reduce((s, v) => s + v, 0) / all.length
    close(g[0]!, all.map((v) => v - mean), 1e-5)
    xs.dispose()
  })

  it('MaxPool: the output difference routed through each half’s own argmax (by hand on one window)', async () => {
    // one 2x2 window, one channel: input maximum at (0,0) = 3, reference maximum at (1,1) = 2
    const m = fromTfjs((x: tf.Tensor) => tf.reshape(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), [-1, 1]))
    const xs = tf.tensor4d([3, 1, 0, -1, 0, 1, 0.5, 2], [2, 2, 2, 1])
    const g = await clean(() => grads(m, [xs], sumAll, DL))
    // out 3, out_ref 2, max 3: (max − out_ref) = 1 routed to (0,0) [input argmax], (out − max) = 0 to (1,1) [ref argmax];
    // Δin = [3, 0, −0.5, −3]: multipliers [1/3, ordinary, 0, 0] per pair, the same for both halves;
    // where Δin = 0 (position 1) the ordinary gradient (zero there for both rows: neither is an argmax).
    close(g[0]!, [1 / 3, 0, 0, 0, 1 / 3, 0, 0, 0], 1e-6)
    xs.dispose()
  })
})

describe('MaxPool routing with PyTorch tie-breaking', () => {
  it.each([
    { filterSize: 2, strides: 2, pad: 'valid' as const },
    { filterSize: 3, strides: 2, pad: 'same' as const },
    { filterSize: [3, 2] as [number, number], strides: 1, pad: 'valid' as const },
    { filterSize: 3, strides: 1, pad: 'same' as const },
  ])('without ties it equals tfjs cpu\'s MaxPool gradient (%o)', (attrs) => {
    const x = tf.randomUniform([2, 7, 6, 3], -1, 1, 'float32', 7)
    const dy = tf.tidy(() => tf.randomNormal(tf.maxPool(x as tf.Tensor4D, attrs.filterSize, attrs.strides, attrs.pad).shape, 0, 1, 'float32', 3))
    const before = tf.memory().numTensors
    const got = tf.tidy(() => firstMaxRoute(dy, x, tf.maxPool(x as tf.Tensor4D, attrs.filterSize, attrs.strides, attrs.pad), attrs))
    const want = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, attrs.filterSize, attrs.strides, attrs.pad), dy)))(x))
    close(Array.from(got.dataSync()), Array.from(want.dataSync()), 1e-6)
    ;[got, want].forEach((t) => t.dispose())
    expect(tf.memory().numTensors).toBe(before)
    ;[x, dy].forEach((t) => t.dispose())
  })

  it('a window of equal values sends its gradient to the first one, on cpu and on wasm (whose own MaxPool gradient picks the last)', async () => {
    const m = fromTfjs((x: tf.Tensor) => tf.reshape(tf.maxPool(tf.relu(x) as tf.Tensor4D, 2, 2, 'valid'), [-1, 1]))
    try {
      for (const b of ['cpu', 'wasm']) {
        await tf.setBackend(b)
        const xs = tf.tensor4d([-1, -2, -3, -4], [1, 2, 2, 1])
        const g = (await clean(() => grads(m, [xs], sumAll, { wrt: { kind: 'inputs' }, ruleSet: DECONVOLUTION })))[0]!
        expect(g, b).toEqual([1, 0, 0, 0])
        xs.dispose()
      }
    } finally {
      await tf.setBackend('cpu')
    }
  })
})

describe('guided backprop and deconvolution by hand', () => {
  const w1 = () => tf.tensor2d(W1)
  const w2 = () => tf.tensor2d(W2)
  it('guided: relu of the masked gradient; deconv: relu of the upstream gradient, mask ignored', async () => {
    const [a, b] = [w1(), w2()]
    const m = fromTfjs((x: tf.Tensor) => tf.matMul(tf.relu(tf.matMul(x, a)), b))
    const xs = tf.tensor2d(X)
    const h = mm(fround(X), W1)
    const up = W2.map((r) => r[0]! - r[1]!) // seed (1, −1)
    const sel: Selector<tf.Tensor> = { kind: 'linear', seed: (s) => E.right(float32(s, [1, -1, 1, -1])) }
    const gd = await clean(() => grads(m, [xs], sel, { wrt: { kind: 'inputs' }, ruleSet: GUIDED_BACKPROP }))
    const dc = await clean(() => grads(m, [xs], sel, { wrt: { kind: 'inputs' }, ruleSet: DECONVOLUTION }))
    const back = (gh: number[]): number[] => W1.map((row) => row.reduce((s, w, j) => s + w * gh[j]!, 0))
    close(gd[0]!, h.flatMap((row) => back(row.map((v, j) => (v > 0 ? Math.max(0, up[j]!) : 0)))))
    close(dc[0]!, h.flatMap(() => back(up.map((u) => Math.max(0, u)))))
    xs.dispose(); a.dispose(); b.dispose()
  })
})

describe('the cases Captum gets wrong: every op instance gets its rule', () => {
  const completeness = async (m: Model<tf.Tensor>, x: number[][], ref: number[][]): Promise<void> => {
    const xs = tf.tensor2d([...x, ...ref])
    const g = (await clean(() => grads(m, [xs], sumAll, DL)))[0]!
    const n = x.length
    const d = x[0]!.length
    const xt = tf.tensor2d(x)
    const rt = tf.tensor2d(ref)
    const [fx, fr] = [await fval(m, xt), await fval(m, rt)]
    for (let i = 0; i < n; i++) {
      const sum = x[i]!.reduce((s, v, j) => s + (Math.fround(v) - Math.fround(ref[i]![j]!)) * g[i * d + j]!, 0)
      expect(Math.abs(sum - (fx[i]! - fr[i]!))).toBeLessThan(1e-4)
    }
    // negative control: the plain gradient times Δx does not sum to ΔF here
    const plain = (await grads(m, [xs], sumAll, { wrt: { kind: 'inputs' } }))[0]!
    const plainSum = x[0]!.reduce((s, v, j) => s + (Math.fround(v) - Math.fround(ref[0]![j]!)) * plain[j]!, 0)
    expect(Math.abs(plainSum - (fx[0]! - fr[0]!))).toBeGreaterThan(1e-3)
    ;[xs, xt, rt].forEach((t) => t.dispose())
  }

  it('property: on random nets of linear maps and Relu/Sigmoid/Tanh/Softplus (each used any number of times) completeness holds', async () => {
    const act = fc.constantFrom(tf.relu, tf.sigmoid, tf.tanh, tf.softplus)
    const mat = (r: number, c: number) => fc.array(fc.float({ min: -2, max: 2, noNaN: true, noDefaultInfinity: true }), { minLength: r * c, maxLength: r * c })
    const row = fc.array(fc.float({ min: -2, max: 2, noNaN: true, noDefaultInfinity: true }), { minLength: 3, maxLength: 3 })
    await fc.assert(fc.asyncProperty(mat(3, 5), mat(5, 4), mat(4, 1), act, act, row, row, async (a, b, c, f, g, x, ref) => {
      const [wa, wb, wc] = [tf.tensor2d(a, [3, 5]), tf.tensor2d(b, [5, 4]), tf.tensor2d(c, [4, 1])]
      const m = fromTfjs((t: tf.Tensor) => tf.matMul(g(tf.add(tf.matMul(f(tf.matMul(t, wa)), wb), f(tf.matMul(t, tf.slice(wa, [0, 0], [3, 4]))))), wc))
      const xs = tf.tensor2d([x, ref])
      const grad = (await clean(() => grads(m, [xs], sumAll, DL)))[0]!
      const [fx, fr] = await fval(m, xs)
      const sum = x.reduce((s, v, j) => s + (v - ref[j]!) * grad[j]!, 0)
      expect(Math.abs(sum - (fx! - fr!))).toBeLessThanOrEqual(1e-3 * (1 + Math.abs(fx! - fr!)))
      ;[wa, wb, wc, xs].forEach((t) => t.dispose())
    }), { numRuns: 40, seed: 10 })
  })

  it('one functional activation applied twice', async () => {
    const [a, b, c] = [tf.tensor2d(W1), tf.tensor2d([[1, -1, 0.5, 0.2], [0.3, 0.8, -1, 1], [-0.7, 0.4, 0.9, -0.2], [0.6, -0.3, 0.1, 1.1]]), tf.tensor2d(W2)]
    const act = (t: tf.Tensor): tf.Tensor => tf.relu(t)
    await completeness(fromTfjs((x: tf.Tensor) => tf.sum(tf.matMul(act(tf.matMul(act(tf.matMul(x, a)), b)), c), 1, true)), X, REF)
    ;[a, b, c].forEach((t) => t.dispose())
  })

  it('a residual block reusing one ReLU', async () => {
    const [a, b] = [tf.tensor2d(W1), tf.tensor2d([[1, -1, 0.5, 0.2], [0.3, 0.8, -1, 1], [-0.7, 0.4, 0.9, -0.2], [0.6, -0.3, 0.1, 1.1]])]
    const relu = (t: tf.Tensor): tf.Tensor => tf.relu(t)
    await completeness(fromTfjs((x: tf.Tensor) => {
      const h = relu(tf.matMul(x, a))
      return tf.sum(tf.tanh(relu(tf.add(tf.matMul(h, b), h))), 1, true)
    }), X, REF)
    ;[a, b].forEach((t) => t.dispose())
  })

  it('a ReLU fused into tf.fused.matMul gets the rule: same multipliers as the unfused net', async () => {
    const [a, bias, c] = [tf.tensor2d(W1), tf.tensor1d([0.1, -0.2, 0.3, -0.4]), tf.tensor2d(W2)]
    const fused = fromTfjs((x: tf.Tensor) => tf.matMul(tf.fused.matMul({ a: x as tf.Tensor2D, b: a, bias, activation: 'relu' }), c))
    const plain = fromTfjs((x: tf.Tensor) => tf.matMul(tf.relu(tf.add(tf.matMul(x, a), bias)), c))
    const xs = tf.tensor2d([...X, ...REF])
    const gf = await clean(() => grads(fused, [xs], oneHot(0), DL))
    close(gf[0]!, (await grads(plain, [xs], oneHot(0), DL))[0]!)
    expect(Math.abs(gf[0]![0]! - (await grads(fused, [xs], oneHot(0), { wrt: { kind: 'inputs' } }))[0]![0]!)).toBeGreaterThan(1e-3)
    ;[a, bias, c, xs].forEach((t) => t.dispose())
  })

  it('a tfjs-layers Dense with activation relu (a fused kernel outside a tape) gets the rule', async () => {
    const seq = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [3], activation: 'relu', name: 'd1' }), tf.layers.dense({ units: 2, name: 'd2' })] })
    const [k1, b1] = seq.getLayer('d1').getWeights() as [tf.Tensor2D, tf.Tensor1D]
    const [k2, b2] = seq.getLayer('d2').getWeights() as [tf.Tensor2D, tf.Tensor1D]
    const fn = fromTfjs((x: tf.Tensor) => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, k1), b1)), k2), b2))
    const xs = tf.tensor2d([...X, ...REF])
    const g = await clean(() => grads(fromTfjs(seq), [xs], oneHot(1), DL))
    close(g[0]!, (await grads(fn, [xs], oneHot(1), DL))[0]!)
    // by layer name: the rule on d1's output (its ReLU) only, everything else the ordinary gradient
    const byName: RuleSet = { name: 'by layer', entries: [{ match: { layer: 'd1' }, rule: { rule: 'rescale' } }] }
    close((await clean(() => grads(fromTfjs(seq), [xs], oneHot(1), { ...DL, ruleSet: byName })))[0]!, g[0]!)
    xs.dispose() // k1 … b2 are the layers' own variables, freed with the model
    seq.dispose()
  })
})

describe('matching by name, coverage and scoping', () => {
  const twoRelus = () => {
    const [a, b] = [tf.tensor2d(W1), tf.tensor2d(W2)]
    const model = { layers: ['h1', 'h2'], fn: (tap: (n: string, t: tf.Tensor) => tf.Tensor, x: tf.Tensor) => tf.sum(tap('h2', tf.relu(tf.matMul(tap('h1', tf.relu(tf.matMul(x, a))), b))), 1, true) }
    return { model, dispose: () => [a, b].forEach((t) => t.dispose()) }
  }

  it('a node match on a tapped function applies to that tap only', async () => {
    const { model, dispose } = twoRelus()
    const m = fromTfjs(model)
    const xs = tf.tensor2d(X)
    const onH1: RuleSet = { name: 'deconv h1', entries: [{ match: { node: 'h1' }, rule: { rule: 'deconv' } }], unmatched: 'gradient' }
    const both: RuleSet = { name: 'deconv all', entries: [{ match: { opType: 'Relu' }, rule: { rule: 'deconv' } }] }
    const g1 = (await clean(() => grads(m, [xs], sumAll, { wrt: { kind: 'inputs' }, ruleSet: onH1 })))[0]!
    const g2 = (await grads(m, [xs], sumAll, { wrt: { kind: 'inputs' }, ruleSet: both }))[0]!
    const plain = (await grads(m, [xs], sumAll, { wrt: { kind: 'inputs' } }))[0]!
    // by hand: h2's ReLU keeps its mask, h1's passes relu(upstream)
    const h1 = mm(fround(X), W1).map((r) => r.map((v) => Math.max(0, v)))
    const h2pre = mm(h1, W2)
    const back = (i: number, masked2: boolean): number[] => {
      const g2pre = [0, 1].map((k) => (masked2 ? (h2pre[i]![k]! > 0 ? 1 : 0) : 1))
      const gh1 = W2.map((r) => r.reduce((s, w, k) => s + w * g2pre[k]!, 0)).map((v) => Math.max(0, v))
      return W1.map((row) => row.reduce((s, w, j) => s + w * gh1[j]!, 0))
    }
    close(g1, [...back(0, true), ...back(1, true)])
    close(g2, [...back(0, false), ...back(1, false)])
    expect(plain.some((v, i) => Math.abs(v - g1[i]!) > 1e-3)).toBe(true)
    xs.dispose(); dispose()
  })

  it('a GraphModel node match: identity on node "h" (its Tanh) passes relevance through, by hand', async () => {
    const g = twoHeadGraphModel()
    const m = fromTfjs(g)
    const xs = tf.tensor2d(X)
    const rs: RuleSet = { name: 'id on h', entries: [{ match: { node: 'h' }, rule: { rule: 'identity' } }] }
    const got = (await clean(() => grads(m, [xs], sumAll, { wrt: { kind: 'inputs' }, ruleSet: rs })))[0]!
    // y0 = tanh(x W1) W2 with relevance R = t ⊙ g passed through the tanh unchanged, i.e. its
    // derivative replaced by tanh(h)/h: grad_x = W1 · (tanh(h)/h ⊙ W2 · 1), h = x W1
    const up = TWO_HEAD.W2.map((r) => r.reduce((a, b) => a + b, 0))
    const rowOf = (x: readonly number[]): number[] => {
      const h = TWO_HEAD.W1[0]!.map((_, j) => x.reduce((a, v, i) => a + v * TWO_HEAD.W1[i]![j]!, 0))
      return TWO_HEAD.W1.map((r) => r.reduce((a, v, j) => a + v * (Math.tanh(h[j]!) / h[j]!) * up[j]!, 0))
    }
    close(got, [...rowOf(X[0]!), ...rowOf(X[1]!)])
    // the same rule by opType gives the same; an empty rule set reports the Tanh (GraphModel kernels
    // are named only where the rule set asks for names: fetching every node would cost a run per node)
    close((await grads(m, [xs], sumAll, { wrt: { kind: 'inputs' }, ruleSet: { name: 't', entries: [{ match: { opType: 'Tanh' }, rule: { rule: 'identity' } }] } }))[0]!, got)
    const e = await clean(() => failure(m, [xs], { wrt: { kind: 'inputs' }, ruleSet: { name: 'empty', entries: [] } }))
    expect(e._tag === 'UnsupportedOps' ? e.nodes.map((n) => n.opType) : []).toEqual(['Tanh'])
    xs.dispose()
    g.dispose()
  })

  it('a functional LayersModel: a layer match applies to that layer\'s activation only', async () => {
    const input = tf.input({ shape: [3] })
    const d1 = tf.layers.dense({ units: 4, activation: 'relu', name: 'd1' }).apply(input) as tf.SymbolicTensor
    const d2 = tf.layers.dense({ units: 4, activation: 'relu', name: 'd2' }).apply(d1) as tf.SymbolicTensor
    const out = tf.layers.dense({ units: 1, name: 'out' }).apply(d2) as tf.SymbolicTensor
    const model = tf.model({ inputs: input, outputs: out })
    const fixed: Record<string, [number[][], number[]]> = {
      d1: [W1, [0.1, -0.2, 0.3, -0.4]],
      d2: [[[1, -1, 0.5, 0.2], [0.3, 0.8, -1, 1], [-0.7, 0.4, 0.9, -0.2], [0.6, -0.3, 0.1, 1.1]], [0, 0.1, -0.1, 0]],
      out: [[[1], [-2], [0.5], [-1]], [0.2]],
    }
    for (const [n, [k, b]] of Object.entries(fixed)) tf.tidy(() => model.getLayer(n).setWeights([tf.tensor2d(k), tf.tensor1d(b)]))
    const w = (n: string) => model.getLayer(n).getWeights() as [tf.Tensor2D, tf.Tensor1D]
    const [[k1, b1], [k2, b2], [k3, b3]] = [w('d1'), w('d2'), w('out')]
    // the same net as a tapped function, deconv on its first ReLU only
    const same = fromTfjs({ layers: ['d1'], fn: (tap, x) => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(tap('d1', tf.relu(tf.add(tf.matMul(x, k1), b1))), k2), b2)), k3), b3) })
    const rs: RuleSet = { name: 'deconv d1', entries: [{ match: { layer: 'd1' }, rule: { rule: 'deconv' } }], unmatched: 'gradient' }
    const xs = tf.tensor2d(X)
    const got = (await clean(() => grads(fromTfjs(model), [xs], sumAll, { wrt: { kind: 'inputs' }, ruleSet: rs })))[0]!
    close(got, (await grads(same, [xs], sumAll, { wrt: { kind: 'inputs' }, ruleSet: rs }))[0]!)
    // and it differs from deconv on both ReLUs and from the plain gradient (so the match picked one kernel)
    const all = (await grads(fromTfjs(model), [xs], sumAll, { wrt: { kind: 'inputs' }, ruleSet: DECONVOLUTION }))[0]!
    const plain = (await grads(fromTfjs(model), [xs], sumAll, { wrt: { kind: 'inputs' } }))[0]!
    expect(all.some((v, i) => Math.abs(v - got[i]!) > 1e-4)).toBe(true)
    expect(plain.some((v, i) => Math.abs(v - got[i]!) > 1e-4)).toBe(true)
    xs.dispose()
    model.dispose()
  })

  it('unmatched kernels are all listed in one UnsupportedOps error; the registry and tape are untouched', async () => {
    const w = tf.tensor2d(W1)
    const m = fromTfjs((x: tf.Tensor) => tf.sum(tf.square(tf.erf(tf.relu(tf.matMul(x, w)))), 1, true))
    const xs = tf.tensor2d([...X, ...REF])
    const e = await clean(() => failure(m, [xs], DL))
    expect(e._tag).toBe('UnsupportedOps')
    expect(e.path).toEqual(['ruleSet'])
    expect(e._tag === 'UnsupportedOps' ? e.nodes.map((n) => n.opType).sort() : []).toEqual(['Erf', 'Square'])
    expect(e.message).toMatch(/DeepLift.*Erf.*unmatched: 'gradient'/s)
    // afterwards ordinary gradients are ordinary again
    const after = (await clean(() => grads(m, [xs], sumAll, { wrt: { kind: 'inputs' } })))[0]!
    const ref = Array.from(tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.square(tf.erf(tf.relu(tf.matMul(x, w))))))(xs)).dataSync())
    close(after, ref)
    xs.dispose(); w.dispose()
  })

  it('a model that throws half-way (abort) leaves the registry, the tape and the tensor count as they were', async () => {
    const w = tf.tensor2d(W1)
    const m = fromTfjs((x: tf.Tensor) => {
      tf.relu(tf.matMul(x, w))
      throw new Error('aborted by the user')
    })
    const xs = tf.tensor2d([...X, ...REF])
    const e = await clean(() => failure(m, [xs], DL))
    expect(e.message).toMatch(/aborted by the user/)
    xs.dispose(); w.dispose()
  })

  it('rescale without referenceRows is Unsupported; an odd batch too', async () => {
    const w = tf.tensor2d(W1)
    const m = fromTfjs((x: tf.Tensor) => tf.relu(tf.matMul(x, w)))
    const xs = tf.tensor2d([...X, ...REF])
    expect(await clean(() => failure(m, [xs], { wrt: { kind: 'inputs' }, ruleSet: DEEPLIFT }))).toMatchObject({ _tag: 'Unsupported', path: ['referenceRows'] })
    const odd = tf.tensor2d([...X, REF[0]!])
    expect(await clean(() => failure(m, [odd], DL))).toMatchObject({ _tag: 'Unsupported', path: ['referenceRows'] })
    ;[w, xs, odd].forEach((t) => t.dispose())
  })

  it('a name match on a plain function is Unsupported at the entry; an unknown name is UnknownTensor', async () => {
    let ran = false
    const w = tf.tensor2d(W1)
    const m = fromTfjs((x: tf.Tensor) => {
      ran = true
      return tf.relu(tf.matMul(x, w))
    })
    const xs = tf.tensor2d(X)
    const rs: RuleSet = { name: 'named', entries: [{ match: { opType: 'Tanh' }, rule: { rule: 'rescale' } }, { match: { node: 'h1' }, rule: { rule: 'guided' } }] }
    expect(await clean(() => failure(m, [xs], { wrt: { kind: 'inputs' }, ruleSet: rs }))).toMatchObject({ _tag: 'Unsupported', path: ['ruleSet', 'entries', '1'] })
    expect(ran).toBe(false)
    const { model, dispose } = twoRelus()
    expect(await clean(() => failure(fromTfjs(model), [xs], { wrt: { kind: 'inputs' }, ruleSet: { name: 'x', entries: [{ match: { layer: 'nope' }, rule: { rule: 'guided' } }] } })))
      .toMatchObject({ _tag: 'UnknownTensor', path: ['ruleSet', 'entries', '0'] })
    ;[w, xs].forEach((t) => t.dispose())
    dispose()
  })

  it('a rule the tfjs backend does not implement (DeepLift revealCancel) is Unsupported at its entry before anything runs, never a plain gradient', async () => {
    let ran = false
    const w = tf.tensor2d(W1)
    const m = fromTfjs((x: tf.Tensor) => {
      ran = true
      return tf.relu(tf.matMul(x, w))
    })
    const xs = tf.tensor2d(X)
    const rs: RuleSet = { name: 'lrp', entries: [{ match: { opType: 'Relu' }, rule: { rule: 'identity' } }, { match: { opClass: 'linear' }, rule: { rule: 'revealCancel' } }] }
    const e = await clean(() => failure(m, [xs], { wrt: { kind: 'inputs' }, ruleSet: rs }))
    expect(e).toMatchObject({ _tag: 'Unsupported', path: ['ruleSet', 'entries', '1'] })
    expect(e.message).toMatch(/revealCancel.*ONNX/)
    expect(ran).toBe(false)
    ;[w, xs].forEach((t) => t.dispose())
  })

  it('identity passes relevance (R = t ⊙ g) through an activation unchanged: dx = dy ⊙ tanh(h)/h', async () => {
    const w = tf.tensor2d(W1)
    const m = fromTfjs((x: tf.Tensor) => tf.sum(tf.tanh(tf.matMul(x, w)), 1, true))
    const xs = tf.tensor2d(X)
    const g = (await clean(() => grads(m, [xs], sumAll, { wrt: { kind: 'inputs' }, ruleSet: { name: 'id', entries: [{ match: { opType: 'Tanh' }, rule: { rule: 'identity' } }] } })))[0]!
    const rowOf = (x: readonly number[]): number[] => {
      const h = W1[0]!.map((_, j) => x.reduce((a, v, i) => a + v * W1[i]![j]!, 0))
      return W1.map((r) => r.reduce((a, v, j) => a + v * (Math.tanh(h[j]!) / h[j]!), 0))
    }
    close(g, [...rowOf(X[0]!), ...rowOf(X[1]!)])
    ;[w, xs].forEach((t) => t.dispose())
  })
})

// ------------------------------------------------------------------------------------------------
// Captum's recorded values on the reference networks (tfjs rebuilds of the same weights)
// ------------------------------------------------------------------------------------------------

const REF_DIR = new URL('../../../../../shared/reference/', import.meta.url)
interface Inline { readonly shape: number[]; readonly data: unknown }
const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [Number(v)])
const tensorOf = (t: Inline): tf.Tensor => tf.tensor(flat(t.data), t.shape)

describe.runIf(existsSync(new URL('index.json', REF_DIR)))('Captum fixtures on the tfjs rebuilds', () => {
  const fixture = (model: string, id: string) => JSON.parse(readFileSync(new URL(`cases/${model}/${id}.json`, REF_DIR), 'utf8')) as {
    inputs: Inline[]; args: { baselines?: Inline | null; target?: number | number[] | null }; expected: { attribution: Inline }; tolerance: { abs: number; rel: number }
  }
  const build = (model: string) => {
    const built = buildTfjsReferenceModel(JSON.parse(readFileSync(new URL(`models/${model}.weights.json`, REF_DIR), 'utf8')))
    if (E.isLeft(built)) throw new Error(built.left.message)
    return built.right
  }
  const check = (got: readonly number[], want: readonly number[], tol: { abs: number; rel: number }): void => {
    expect(got.length).toBe(want.length)
    got.forEach((v, i) => expect(Math.abs(v - want[i]!), `element ${i}`).toBeLessThanOrEqual(tol.abs + tol.rel * Math.abs(want[i]!)))
  }

  it.each([
    ['mlp', 'mlp.deeplift.zeros.t0'], ['mlp', 'mlp.deeplift.baseline_full.tlist'], ['cnn', 'cnn.deeplift.zeros.t0'], ['sigmoidnet', 'sigmoidnet.deeplift.baseline_full.tnone'],
  ])('%s: %s (attribution = (x − b) ⊙ multipliers)', async (model, id) => {
    const f = fixture(model, id)
    const net = build(model)
    const x = tensorOf(f.inputs[0]!)
    const b = f.args.baselines ? tensorOf(f.args.baselines) : tf.zerosLike(x)
    const bb = b.shape[0] === x.shape[0] ? b : tf.broadcastTo(b, x.shape)
    const both = tf.concat([x, bb], 0)
    const t = f.args.target
    const sel = t === null || t === undefined ? sumAll : oneHot(t)
    const dx = Array.from(tf.tidy(() => tf.sub(x, bb)).dataSync())
    // the plain function, and the tapped one the conformance runner uses (NCHW views of NHWC tensors)
    for (const m of [fromTfjs(net.fn), fromTfjs(net.tapped())]) {
      const g = (await clean(() => grads(m, [both], sel, DL)))[0]!
      check(dx.map((d, i) => d * g[i]!), flat(f.expected.attribution.data), f.tolerance)
    }
    ;[x, b, bb, both].forEach((u) => { if (!u.isDisposed) u.dispose() })
    net.dispose()
  })

  it.each([
    ['mlp', 'mlp.guidedbackprop.tlist', GUIDED_BACKPROP], ['mlp', 'mlp.deconvolution.t2', DECONVOLUTION], ['cnn', 'cnn.deconvolution.tlist', DECONVOLUTION],
  ] as const)('%s: %s (attribution = modified gradient)', async (model, id, rs) => {
    const f = fixture(model, id)
    const net = build(model)
    const x = tensorOf(f.inputs[0]!)
    const g = (await clean(() => grads(fromTfjs(net.fn), [x], oneHot(f.args.target as number | number[]), { wrt: { kind: 'inputs' }, ruleSet: rs })))[0]!
    check(g, flat(f.expected.attribution.data), f.tolerance)
    x.dispose()
    net.dispose()
  })
})
