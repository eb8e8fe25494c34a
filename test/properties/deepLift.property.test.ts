// Properties of the modified-backprop methods on random small ReLU / Sigmoid / Tanh MLPs (tfjs-cpu):
// DeepLift is complete (Σ attributions = F(x) − F(x′), its delta ≈ 0), DeepLiftShap is the mean of
// DeepLift over the references, and guided backpropagation on a network without ReLUs is the
// gradient. Each property has a negative control that must fail it.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../src/backends/tfjs/index.js'
import { DeepLift, DeepLiftShap, GuidedBackprop, Saliency, float32, type HostTensor } from '../../src/index.js'
import { inputArb, mlpArb, mlpFn, type MlpSpec } from '../helpers/randomMlp.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const RUNS = { seed: 1010, numRuns: 25 }
const data = (t: HostTensor): number[] => Array.from(t.data as Float32Array)
const maxAbs = (xs: readonly number[]): number => xs.reduce((a, v) => Math.max(a, Math.abs(v)), 0)
const rowSums = (xs: readonly number[], n: number): number[] => Array.from({ length: xs.length / n }, (_, i) => xs.slice(i * n, (i + 1) * n).reduce((a, v) => a + v, 0))
/** F(x) − F(x′) of output 0, per row. */
const gapOf = (s: MlpSpec, x: number[], b: number[], rows: number): number[] =>
  tf.tidy(() => Array.from(tf.sub(mlpFn(s)(tf.tensor2d(x, [rows, s.nIn])), mlpFn(s)(tf.tensor2d(b, [rows, s.nIn]))).slice([0, 0], [rows, 1]).dataSync()))

/** ReLU nets with weights on a coarse grid (quarters in [−1.5, 1.5]), so hidden units are often active with negative downstream weights. */
const quarters = (n: number): fc.Arbitrary<number[]> => fc.array(fc.integer({ min: -6, max: 6 }).map((v) => v / 4), { minLength: n, maxLength: n })
const coarseReluNet: fc.Arbitrary<[MlpSpec, number[]]> = fc.record({ nIn: fc.integer({ min: 2, max: 4 }), nHidden: fc.integer({ min: 2, max: 5 }) }).chain(({ nIn, nHidden }) =>
  fc.tuple(
    fc.record({ nIn: fc.constant(nIn), nHidden: fc.constant(nHidden), nOut: fc.constant(1), w1: quarters(nIn * nHidden), b1: quarters(nHidden), w2: quarters(nHidden), b2: quarters(1), activation: fc.constant('relu' as const) }),
    quarters(2 * nIn),
  ))

const activations = fc.constantFrom('relu' as const, 'sigmoid' as const, 'tanh' as const)
const netAndPoints = activations.chain((a) => mlpArb(a)).chain((s) => fc.tuple(fc.constant(s), inputArb(s.nIn, 2), inputArb(s.nIn, 2)))

describe('DeepLift on random MLPs', () => {
  it('is complete: Σ attributions = F(x) − F(x′) and the delta is ≈ 0 (negative control: gradient × (x − x′) is not)', async () => {
    let plainGap = 0
    const before = tf.memory().numTensors
    await fc.assert(
      fc.asyncProperty(netAndPoints, async ([s, x, b]) => {
        const m = fromTfjs(mlpFn(s))
        const [a, d] = await new DeepLift(m).attribute(float32([2, s.nIn], x), { baselines: float32([2, s.nIn], b), target: 0, returnConvergenceDelta: true })
        const gap = gapOf(s, x, b, 2)
        const scale = 1 + maxAbs(gap)
        expect(maxAbs(rowSums(data(a), s.nIn).map((v, i) => v - gap[i]!))).toBeLessThan(1e-4 * scale)
        expect(maxAbs(data(d))).toBeLessThan(1e-4 * scale)
        const g = data(await new Saliency(m).attribute(float32([2, s.nIn], x), { target: 0, abs: false }))
        const gx = rowSums(g.map((v, i) => v * (x[i]! - b[i]!)), s.nIn)
        plainGap = Math.max(plainGap, maxAbs(gx.map((v, i) => v - gap[i]!)) / scale)
      }),
      RUNS,
    )
    expect(plainGap).toBeGreaterThan(1e-2)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('DeepLiftShap is the mean of DeepLift over the reference rows (negative control: DeepLift against their mean is not)', async () => {
    let againstMean = 0
    await fc.assert(
      fc.asyncProperty(netAndPoints, inputArb(5, 3), async ([s, x], refs) => {
        const m = fromTfjs(mlpFn(s))
        const dist = refs.slice(0, 3 * s.nIn)
        const shap = data(await new DeepLiftShap(m).attribute(float32([2, s.nIn], x), { baselines: float32([3, s.nIn], dist), target: 0 }))
        const mean = new Array<number>(2 * s.nIn).fill(0)
        for (let k = 0; k < 3; k++) {
          const ref = dist.slice(k * s.nIn, (k + 1) * s.nIn)
          data(await new DeepLift(m).attribute(float32([2, s.nIn], x), { baselines: float32([2, s.nIn], [...ref, ...ref]), target: 0 })).forEach((v, i) => { mean[i]! += v / 3 })
        }
        expect(maxAbs(shap.map((v, i) => v - mean[i]!))).toBeLessThan(1e-5 * (1 + maxAbs(mean)))
        const centre = Array.from({ length: s.nIn }, (_, j) => (dist[j]! + dist[s.nIn + j]! + dist[2 * s.nIn + j]!) / 3)
        const atMean = data(await new DeepLift(m).attribute(float32([2, s.nIn], x), { baselines: float32([2, s.nIn], [...centre, ...centre]), target: 0 }))
        againstMean = Math.max(againstMean, maxAbs(shap.map((v, i) => v - atMean[i]!)))
      }),
      { ...RUNS, numRuns: 15 },
    )
    expect(againstMean).toBeGreaterThan(1e-3)
  })
})

describe('GuidedBackprop on random MLPs', () => {
  it('without ReLUs it is the gradient (negative control: with ReLUs it is not, somewhere)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('sigmoid' as const, 'tanh' as const).chain((a) => mlpArb(a)).chain((s) => fc.tuple(fc.constant(s), inputArb(s.nIn, 2))), async ([s, x]) => {
        const m = fromTfjs(mlpFn(s))
        const guided = data(await new GuidedBackprop(m).attribute(float32([2, s.nIn], x), { target: 0 }))
        const grad = data(await new Saliency(m).attribute(float32([2, s.nIn], x), { target: 0, abs: false }))
        expect(maxAbs(guided.map((v, i) => v - grad[i]!))).toBeLessThan(1e-6)
      }),
      RUNS,
    )
    let differs = 0
    await fc.assert(
      fc.asyncProperty(coarseReluNet, async ([s, x]) => {
        const m = fromTfjs(mlpFn(s))
        const guided = data(await new GuidedBackprop(m).attribute(float32([2, s.nIn], x), { target: 0 }))
        const grad = data(await new Saliency(m).attribute(float32([2, s.nIn], x), { target: 0, abs: false }))
        differs = Math.max(differs, maxAbs(guided.map((v, i) => v - grad[i]!)))
      }),
      RUNS,
    )
    expect(differs).toBeGreaterThan(1e-3)
  })
})
