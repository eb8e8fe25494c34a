// Many layers in one pass (issue 11): a layer method given a list of layers returns one result per
// layer from one forward and one backward pass. Properties:
// - LayerGradCam, LayerGradientXActivation, LayerActivation and InternalInfluence: each result of
//   a list equals a run with that layer alone (random small MLPs with every internal tensor
//   tapped; a random non-empty sub-list in random order);
// - LayerIntegratedGradients with a list moves all layers along their paths at once (Captum's
//   semantics), checked against a closed form on a model whose output is bilinear in two parallel
//   layers, where the joint and the per-layer results differ (the negative control shows it);
// - the same on the ONNX reference models, against Captum's per-layer fixtures.
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../src/backends/tfjs/index.js'
import { fromOnnx } from '../../src/backends/onnx/index.js'
import { compareTensors, loadReferenceDir, type ReferenceCase } from '../../src/conformance/index.js'
import { float32, InternalInfluence, LayerActivation, LayerGradCam, LayerGradientXActivation, LayerIntegratedGradients, type HostTensor, type Model } from '../../src/index.js'
import { errorOf } from '../helpers/errors.js'
import { inputArb, mlpArb, type MlpSpec } from '../helpers/randomMlp.js'
import { REFERENCE_DIR } from '../helpers/reference.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const RUNS = { numRuns: 20, seed: 20261206 }

const data = (t: HostTensor): number[] => Array.from(t.data as Float32Array)

/** |a − b| ≤ abs + rel·|b| elementwise, same shape. */
const expectClose = (got: HostTensor, want: HostTensor | { shape: readonly number[]; data: readonly number[] }, abs = 1e-5, rel = 1e-4): void => {
  expect(got.shape).toEqual(want.shape)
  const w = Array.from(want.data as ArrayLike<number>)
  data(got).forEach((v, i) => expect(Math.abs(v - w[i]!), `element ${i}: ${v} vs ${w[i]}`).toBeLessThanOrEqual(abs + rel * Math.abs(w[i]!)))
}

/** Bit for bit. */
const expectSame = (got: HostTensor, want: HostTensor): void => {
  expect(got.shape).toEqual(want.shape)
  expect(data(got)).toEqual(data(want))
}

const LAYERS = ['in', 'pre', 'act', 'out'] as const

/** The random MLP with every internal tensor tapped: in (x + 0), pre (xW₁ + b₁), act, out. */
const tappedMlp = (s: MlpSpec): Model<tf.Tensor> =>
  fromTfjs({
    layers: [...LAYERS],
    fn: (tap, x) => {
      const xi = tap('in', tf.add(x!, 0))
      const h = tap('pre', tf.add(tf.matMul(xi, tf.tensor2d(s.w1, [s.nIn, s.nHidden])), tf.tensor1d(s.b1)))
      const a = tap('act', s.activation === 'tanh' ? tf.tanh(h) : s.activation === 'relu' ? tf.relu(h) : tf.sigmoid(h))
      return tap('out', tf.add(tf.matMul(a, tf.tensor2d(s.w2, [s.nHidden, s.nOut])), tf.tensor1d(s.b2)))
    },
  })

const caseArb = fc
  .oneof(mlpArb('tanh'), mlpArb('sigmoid'), mlpArb('relu'))
  .chain((spec) =>
    fc.record({
      spec: fc.constant(spec),
      x: inputArb(spec.nIn),
      x0: inputArb(spec.nIn),
      target: fc.integer({ min: 0, max: spec.nOut - 1 }),
      layers: fc.shuffledSubarray([...LAYERS], { minLength: 1 }),
    }),
  )

describe('a list of layers equals one run per layer, bit for bit (random tapped MLPs, tfjs-cpu)', () => {
  it('LayerActivation: bit for bit, and a one-element list is the string form in a list', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ spec, x, layers }) => {
        const model = tappedMlp(spec)
        const xs = float32([2, spec.nIn], x)
        const many = await new LayerActivation(model, layers).attribute(xs)
        expect(many).toHaveLength(layers.length)
        for (const [j, l] of layers.entries()) expectSame(many[j]!, await new LayerActivation(model, l).attribute(xs))
        expectSame((await new LayerActivation(model, [layers[0]!]).attribute(xs))[0]!, many[0]!)
      }),
      RUNS,
    )
  })

  it('LayerGradientXActivation (with and without multiplyByInputs) and LayerGradCam', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.boolean(), async ({ spec, x, target, layers }, multiplyByInputs) => {
        const model = tappedMlp(spec)
        const xs = float32([2, spec.nIn], x)
        const gxa = await new LayerGradientXActivation(model, layers, { multiplyByInputs }).attribute(xs, { target })
        const cam = await new LayerGradCam(model, layers).attribute(xs, { target })
        expect(gxa).toHaveLength(layers.length)
        expect(cam).toHaveLength(layers.length)
        for (const [j, l] of layers.entries()) {
          expectSame(gxa[j]!, await new LayerGradientXActivation(model, l, { multiplyByInputs }).attribute(xs, { target }))
          expectSame(cam[j]!, await new LayerGradCam(model, l).attribute(xs, { target }))
        }
        // a one-element list runs exactly what the string runs
        expectSame((await new LayerGradCam(model, [layers[0]!]).attribute(xs, { target }))[0]!, await new LayerGradCam(model, layers[0]!).attribute(xs, { target }))
      }),
      RUNS,
    )
  })

  it('InternalInfluence: the same path steps, one backward pass for all layers, whole or chunked', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.integer({ min: 2, max: 6 }), fc.constantFrom('gausslegendre' as const, 'riemann_left' as const, 'riemann_trapezoid' as const), async ({ spec, x, x0, target, layers }, nSteps, method) => {
        const model = tappedMlp(spec)
        const xs = float32([2, spec.nIn], x)
        const opts = { target, baselines: float32([2, spec.nIn], x0), nSteps, method }
        const many = await new InternalInfluence(model, layers).attribute(xs, opts)
        const chunked = await new InternalInfluence(model, layers).attribute(xs, { ...opts, internalBatchSize: 2 })
        expect(many).toHaveLength(layers.length)
        for (const [j, l] of layers.entries()) {
          const alone = await new InternalInfluence(model, l).attribute(xs, opts)
          expectSame(many[j]!, alone)
          expectClose(chunked[j]!, alone)
        }
      }),
      RUNS,
    )
  })
})

// ------------------------------------------------------------------------------------------------
// LayerIntegratedGradients: a joint path through the listed layers
// ------------------------------------------------------------------------------------------------

/** Two parallel layers of the input and an output bilinear in them: out = (h₁ ⊙ h₂) V + c. */
interface Bilinear {
  readonly nIn: number
  readonly nH: number
  readonly nOut: number
  readonly w1: number[]
  readonly b1: number[]
  readonly w2: number[]
  readonly b2: number[]
  readonly v: number[]
  readonly c: number[]
}

const vals = (n: number, s = 1): fc.Arbitrary<number[]> => fc.array(fc.double({ min: -s, max: s, noNaN: true }), { minLength: n, maxLength: n })

const bilinearArb: fc.Arbitrary<Bilinear> = fc.record({ nIn: fc.integer({ min: 2, max: 4 }), nH: fc.integer({ min: 2, max: 5 }), nOut: fc.integer({ min: 1, max: 3 }) }).chain((d) =>
  fc.record({
    nIn: fc.constant(d.nIn), nH: fc.constant(d.nH), nOut: fc.constant(d.nOut),
    w1: vals(d.nIn * d.nH), b1: vals(d.nH, 0.5), w2: vals(d.nIn * d.nH), b2: vals(d.nH, 0.5), v: vals(d.nH * d.nOut), c: vals(d.nOut, 0.5),
  }),
)

const bilinearModel = (s: Bilinear): Model<tf.Tensor> =>
  fromTfjs({
    layers: ['h1', 'h2'],
    fn: (tap, x) => {
      const h1 = tap('h1', tf.tanh(tf.add(tf.matMul(x!, tf.tensor2d(s.w1, [s.nIn, s.nH])), tf.tensor1d(s.b1))))
      const h2 = tap('h2', tf.add(tf.matMul(x!, tf.tensor2d(s.w2, [s.nIn, s.nH])), tf.tensor1d(s.b2)))
      return tf.add(tf.matMul(tf.mul(h1, h2), tf.tensor2d(s.v, [s.nH, s.nOut])), tf.tensor1d(s.c))
    },
  })

/** h₁ and h₂ of one row, in float64 (the oracle's own forward pass). */
const hidden = (s: Bilinear, row: readonly number[]): [number[], number[]] => {
  const h1: number[] = []
  const h2: number[] = []
  for (let j = 0; j < s.nH; j++) {
    let a = s.b1[j]!
    let b = s.b2[j]!
    for (let i = 0; i < s.nIn; i++) {
      a += row[i]! * s.w1[i * s.nH + j]!
      b += row[i]! * s.w2[i * s.nH + j]!
    }
    h1.push(Math.tanh(a))
    h2.push(b)
  }
  return [h1, h2]
}

/**
 * LIG of h₁ and h₂ for rows x (baselines x′) and output t, from the closed form. Along the joint
 * path both layers move: ∂F/∂h₁ = V_t ⊙ h₂(α), whose integral over α ∈ [0, 1] is
 * V_t ⊙ (h₂′ + Δ₂/2) (what any rule exact on linear functions gives). `joint: false` gives
 * one-layer LIG instead, where the other layer stays at its value for x.
 */
const ligOracle = (s: Bilinear, x: readonly number[], x0: readonly number[], t: number, multiply: boolean, joint: boolean): [number[], number[]] => {
  const rows = x.length / s.nIn
  const out1: number[] = []
  const out2: number[] = []
  for (let r = 0; r < rows; r++) {
    const [a1, a2] = hidden(s, x.slice(r * s.nIn, (r + 1) * s.nIn))
    const [b1, b2] = hidden(s, x0.slice(r * s.nIn, (r + 1) * s.nIn))
    for (let j = 0; j < s.nH; j++) {
      const vt = s.v[j * s.nOut + t]!
      const d1 = a1[j]! - b1[j]!
      const d2 = a2[j]! - b2[j]!
      const g1 = vt * (joint ? b2[j]! + d2 / 2 : a2[j]!)
      const g2 = vt * (joint ? b1[j]! + d1 / 2 : a1[j]!)
      out1.push(multiply ? g1 * d1 : g1)
      out2.push(multiply ? g2 * d2 : g2)
    }
  }
  return [out1, out2]
}

const ligCaseArb = bilinearArb.chain((s) =>
  fc.record({
    s: fc.constant(s),
    x: vals(2 * s.nIn, 2),
    x0: vals(2 * s.nIn, 2),
    t: fc.integer({ min: 0, max: s.nOut - 1 }),
    order: fc.constantFrom(['h1', 'h2'] as const, ['h2', 'h1'] as const),
    // rules that integrate a linear function exactly (Captum's riemann_trapezoid weights sum to (n − 1)/n, so not it)
    method: fc.constantFrom('gausslegendre' as const, 'riemann_middle' as const),
    nSteps: fc.integer({ min: 2, max: 8 }),
    multiplyByInputs: fc.boolean(),
  }),
)

describe('LayerIntegratedGradients with a list of layers: one joint path (Captum\'s semantics)', () => {
  it('matches the closed form of the joint path; the delta sums every layer and is ~0 when the layers cut every path', async () => {
    await fc.assert(
      fc.asyncProperty(ligCaseArb, async ({ s, x, x0, t, order, method, nSteps, multiplyByInputs }) => {
        const model = bilinearModel(s)
        const xs = float32([2, s.nIn], x)
        const opts = { target: t, baselines: float32([2, s.nIn], x0), nSteps, method }
        const [many, delta] = await new LayerIntegratedGradients(model, [...order]).attribute(xs, { ...opts, returnConvergenceDelta: true })
        const [o1, o2] = ligOracle(s, x, x0, t, true, true)
        const want = { h1: o1, h2: o2 }
        order.forEach((l, j) => expectClose(many[j]!, { shape: [2, s.nH], data: want[l] }, 1e-4, 1e-3))
        expect(delta.shape).toEqual([2])
        data(delta).forEach((d) => expect(Math.abs(d)).toBeLessThan(1e-3))
        if (!multiplyByInputs) {
          const bare = await new LayerIntegratedGradients(model, [...order], { multiplyByInputs: false }).attribute(xs, opts)
          const [g1, g2] = ligOracle(s, x, x0, t, false, true)
          const wantBare = { h1: g1, h2: g2 }
          order.forEach((l, j) => expectClose(bare[j]!, { shape: [2, s.nH], data: wantBare[l] }, 1e-4, 1e-3))
        }
        // one layer alone is ordinary LIG (the other layer stays at its value for x), and a
        // one-element list is exactly the string form
        const alone = await new LayerIntegratedGradients(model, 'h1').attribute(xs, opts)
        expectClose(alone, { shape: [2, s.nH], data: ligOracle(s, x, x0, t, true, false)[0] }, 1e-4, 1e-3)
        expectSame((await new LayerIntegratedGradients(model, ['h1']).attribute(xs, opts))[0]!, alone)
      }),
      RUNS,
    )
  })

  it('negative control: per-layer LIG is not the joint result, and the oracle tells them apart', async () => {
    const s: Bilinear = { nIn: 2, nH: 2, nOut: 1, w1: [1, 0, 0, 1], b1: [0, 0], w2: [1, 0, 0, 1], b2: [0, 0], v: [1, 1], c: [0] }
    const model = bilinearModel(s)
    const x = [1, 2, -1, 0.5]
    const x0 = [0, 0, 0, 0]
    const xs = float32([2, 2], x)
    const opts = { target: 0, baselines: float32([2, 2], x0), nSteps: 16 }
    const joint = await new LayerIntegratedGradients(model, ['h1', 'h2']).attribute(xs, opts)
    const perLayer = [await new LayerIntegratedGradients(model, 'h1').attribute(xs, opts), await new LayerIntegratedGradients(model, 'h2').attribute(xs, opts)]
    const [j1] = ligOracle(s, x, x0, 0, true, true)
    const [p1] = ligOracle(s, x, x0, 0, true, false)
    expect(Math.max(...j1.map((v, i) => Math.abs(v - p1[i]!)))).toBeGreaterThan(0.1)
    expectClose(joint[0]!, { shape: [2, 2], data: j1 }, 1e-4, 1e-3)
    expect(() => expectClose(perLayer[0]!, { shape: [2, 2], data: j1 }, 1e-4, 1e-3)).toThrow()
    // per-layer LIG of a bilinear output is not complete on its own; the joint one is
    const total = (ts: readonly HostTensor[]): number[] => [0, 1].map((r) => ts.reduce((acc, a) => acc + data(a).slice(r * 2, r * 2 + 2).reduce((p, q) => p + q, 0), 0))
    const fx = [1 * Math.tanh(1) + 2 * Math.tanh(2), -1 * Math.tanh(-1) + 0.5 * Math.tanh(0.5)]
    total(joint).forEach((v, r) => expect(Math.abs(v - fx[r]!)).toBeLessThan(1e-4))
    expect(Math.max(...total(perLayer).map((v, r) => Math.abs(v - fx[r]!)))).toBeGreaterThan(0.1)
  })

  it('layers that feed each other: the upstream one is cut off by the injection, a typed NotReachable error (Captum fails too)', async () => {
    const spec: MlpSpec = { nIn: 2, nHidden: 2, nOut: 1, w1: [1, 0, 0, 1], b1: [0, 0], w2: [1, 1], b2: [0], activation: 'tanh' }
    const e = await errorOf(new LayerIntegratedGradients(tappedMlp(spec), ['pre', 'act']).attribute(float32([1, 2], [1, 2]), { target: 0, nSteps: 4 }))
    expect(e._tag).toBe('NotReachable')
  })
})

// ------------------------------------------------------------------------------------------------
// ONNX: the reference models against Captum's per-layer fixtures
// ------------------------------------------------------------------------------------------------

describe('ONNX reference models: a list of layers against per-layer runs and Captum\'s fixtures', () => {
  const ref = loadReferenceDir(REFERENCE_DIR)
  const caseOf = (id: string): ReferenceCase => {
    if (E.isLeft(ref)) throw new Error(ref.left.message)
    const c = ref.right.cases.find((k) => k.entry.id === id)?.load()
    if (c === undefined || E.isLeft(c)) throw new Error(`cannot load ${id}`)
    return c.right
  }
  const load = async (name: string): Promise<Model<HostTensor>> => {
    const m = await fromOnnx(path.join(REFERENCE_DIR, `models/${name}.onnx`))
    if (E.isLeft(m)) throw new Error(m.left.message)
    return m.right
  }
  const matches = (got: HostTensor, c: ReferenceCase): void => {
    const cmp = compareTensors(got, c.expected.attributions[0]!, c.tolerance)
    expect(cmp.ok, cmp.message).toBe(true)
  }

  it('cnn LayerGradCam([conv1, conv2]): each map equals its own run; conv2 equals Captum\'s fixture', async () => {
    const c = caseOf('cnn.layergradcam.conv2.t0')
    const model = await load('cnn')
    try {
      const layers = ['/conv1/Conv_output_0', '/conv2/Conv_output_0'] as const
      const [conv1, conv2] = await new LayerGradCam(model, [...layers]).attribute(c.inputs[0]!, { target: 0 })
      expectSame(conv1!, await new LayerGradCam(model, layers[0]).attribute(c.inputs[0]!, { target: 0 }))
      expectSame(conv2!, await new LayerGradCam(model, layers[1]).attribute(c.inputs[0]!, { target: 0 }))
      matches(conv2!, c)
    } finally {
      await model.dispose()
    }
  })

  it('mlp: LayerGradientXActivation and LayerActivation over [fc1, relu1]; LayerIntegratedGradients over [fc1] and the dependent pair', async () => {
    const model = await load('mlp')
    try {
      const fc1 = '/fc1/Gemm_output_0'
      const relu1 = '/relu1/Relu_output_0'
      const gxa = caseOf('mlp.layergradxact.fc1.t0')
      const x = gxa.inputs[0]!
      const [g1, g2] = await new LayerGradientXActivation(model, [fc1, relu1]).attribute(x, { target: 0 })
      matches(g1!, gxa)
      expectSame(g2!, await new LayerGradientXActivation(model, relu1).attribute(x, { target: 0 }))
      const [a1, a2] = await new LayerActivation(model, [fc1, relu1]).attribute(x)
      expectSame(a1!, await new LayerActivation(model, fc1).attribute(x))
      matches(a2!, caseOf('mlp.layeractivation.relu1'))
      const lig = caseOf('mlp.layerig.fc1.gausslegendre50.t0')
      expect(lig.args['baselines']).toBeNull()
      const [l1] = await new LayerIntegratedGradients(model, [fc1]).attribute(lig.inputs[0]!, { target: 0, nSteps: 50, method: 'gausslegendre' })
      matches(l1!, lig)
      // fc1 reaches the output only through relu1: injecting both cuts fc1 off
      const e = await errorOf(new LayerIntegratedGradients(model, [fc1, relu1]).attribute(x, { target: 0, nSteps: 4 }))
      expect(e._tag).toBe('NotReachable')
    } finally {
      await model.dispose()
    }
  })
})
