// Captum's written-out metric values (captum-semantics.md §10.4 Fixture L, tests/metrics/), on
// tfjs-cpu with Captum's toy models, at Captum's tolerance (Σ|err| ≤ 0.05) and, where the value
// is known in closed form, at a tight one.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../src/backends/tfjs/index.js'
import { evaluate, featureAblation, integratedGradients, infidelity, sensitivityMax, attribute, type HostTensor, type PerturbationFn } from '../../src/index.js'
import { deepLift } from '../../src/algorithms/deepLift.js'
import { basicModel2, basicMultiLayer } from '../helpers/basicModels.js'

/** BasicModel_MultiLayer(x, add_input, multidim_output=True): out (N,2) stacked to (N,2,2,2). */
const multiLayerMultidim = (x: tf.Tensor, add?: tf.Tensor): tf.Tensor =>
  tf.tidy(() => {
    const out = basicMultiLayer(add === undefined ? x : tf.add(x, add))
    const mid = tf.stack([out, tf.mul(out, 2)], 2)
    return tf.stack([mid, tf.mul(mid, 4)], 3)
  })

const sumAbsErr = (got: HostTensor, expected: readonly number[]): number => expected.reduce((a, e, i) => a + Math.abs(Number(got.data[i]) - e), 0)

const scoresOf = async (r: Promise<E.Either<unknown, { scores: HostTensor }>>): Promise<HostTensor> => {
  const v = await r
  if (E.isLeft(v)) throw new Error(JSON.stringify(v.left))
  return v.right.scores
}

/** Captum's `_local_perturb_func`: I = (0.0009, 0.0121) everywhere, x̃ = x − I. */
const local: PerturbationFn = ({ inputs }) => {
  const perturbation = inputs.map((x, j): HostTensor => ({ dtype: 'float32', shape: [...x.shape], data: new Float32Array(x.data.length).fill(j === 0 ? 0.0009 : 0.0121) }))
  return { perturbation, perturbed: inputs.map((x, j): HostTensor => ({ dtype: 'float32', shape: [...x.shape], data: Float32Array.from(x.data as Float32Array, (v, e) => v - (perturbation[j]!.data as Float32Array)[e]!) })) }
}

/** Rows of a fixed 0/1 matrix per sample: I = row s, x̃ = (1 − I) ⊙ x (Captum's sensitivity-n perturbations). */
const globalPerturb = (rows: readonly (readonly number[])[]): PerturbationFn => ({ inputs, samples }) => {
  const x = inputs[0]!
  const I = new Float32Array(x.data.length)
  const out = new Float32Array(x.data.length)
  for (let q = 0; q < samples.length; q++) {
    for (let e = 0; e < 3; e++) {
      I[q * 3 + e] = rows[samples[q]!]![e]!
      out[q * 3 + e] = (1 - I[q * 3 + e]!) * (x.data as Float32Array)[q * 3 + e]!
    }
  }
  return { perturbation: [{ dtype: 'float32', shape: [...x.shape], data: I }], perturbed: [{ dtype: 'float32', shape: [...x.shape], data: out }] }
}

/** Captum's sensitivity test perturbation: x + arange(−⌊n/2⌋…)/100 over one example's n elements (n = 3: [−0.02, −0.01, 0]). */
const ratio: PerturbationFn = ({ inputs }) => ({
  perturbed: inputs.map((x): HostTensor => ({ dtype: 'float32', shape: [...x.shape], data: Float32Array.from(x.data as Float32Array, (v, e) => v + [-0.02, -0.01, 0][e % 3]!) })),
})

beforeAll(async () => {
  await tf.setBackend('cpu')
})

describe('Fixture L: infidelity', () => {
  it('is 0 for IG attributions on BasicModel2 with a local perturbation (single and batched inputs)', async () => {
    const model = fromTfjs(basicModel2)
    for (const [x1, x2] of [[[3], [1]], [[3, 3.5, 4], [1, 1, 1]]] as const) {
      const xs = [tf.tensor1d([...x1]), tf.tensor1d([...x2])]
      const before = tf.memory().numTensors
      const metric = infidelity(integratedGradients({ multiplyByInputs: false }), { perturbation: { _tag: 'custom', name: 'local' } })
      const got = await scoresOf(evaluate(metric, model, xs, { plugins: { perturbations: { local } } })())
      expect(sumAbsErr(got, x1.map(() => 0))).toBeLessThanOrEqual(0.05)
      // closed form: F = x₁ − 1 − x₂ is linear around every x here, so F(x) − F(x − I) = 0.0009 − 0.0121
      // and the score is (0.0009·a₁ + 0.0121·a₂ − (0.0009 − 0.0121))² with a the IG attributions
      const ig = await attribute(integratedGradients({ multiplyByInputs: false }), model, xs)()
      if (E.isLeft(ig)) throw new Error(ig.left.message)
      const a1 = ig.right.attributions[0]!.data as Float32Array
      const a2 = ig.right.attributions[1]!.data as Float32Array
      x1.forEach((_, i) => {
        const s = 0.0009 * a1[i]! + 0.0121 * a2[i]!
        const d = 0.0009 - 0.0121
        expect(Math.abs(Number(got.data[i]) - (s - d) ** 2)).toBeLessThan(1e-8)
      })
      expect(tf.memory().numTensors).toBe(before)
      xs.forEach((t) => t.dispose())
    }
  })

  it('is 0 for sensitivity-n perturbations on BasicModel_MultiLayer, x = [[1, 2.5, 3.3]], with IG or FeatureAblation', async () => {
    const model = fromTfjs(basicMultiLayer)
    const x = tf.tensor2d([[1.0, 2.5, 3.3]])
    const perturbations = {
      sens1: globalPerturb([[0, 0, 1], [1, 0, 0], [0, 1, 0]]),
      sens2: globalPerturb([[0, 1, 1], [1, 1, 0], [1, 0, 1]]),
      sens3: globalPerturb([[1, 1, 1], [1, 1, 1], [1, 1, 1]]),
    }
    for (const method of [integratedGradients(), featureAblation()]) {
      for (const name of Object.keys(perturbations)) {
        const got = await scoresOf(evaluate(infidelity(method, { perturbation: { _tag: 'custom', name }, nPerturbSamples: 3 }), model, x, { target: 0, plugins: { perturbations } })())
        expect(Math.abs(Number(got.data[0])), `${method.name} ${name}`).toBeLessThan(1e-6)
      }
    }
    x.dispose()
  })

  it('IG on BasicModel_MultiLayer with baselines replaced wholesale: [0.10686, 0, 0, 0] = delta² of IG', async () => {
    const model = fromTfjs(multiLayerMultidim)
    const x = tf.tensor2d(Array.from({ length: 12 }, (_, i) => i + 1), [4, 3])
    const add = tf.tensor2d(Array.from({ length: 12 }, (_, i) => i + 1), [4, 3])
    const base = tf.ones([4, 3])
    const target = [[0, 1, 1], [0, 1, 1], [1, 1, 1], [0, 1, 1]]
    const call = { target, baselines: base, additionalForwardArgs: [add] }
    const got = await scoresOf(evaluate(infidelity(integratedGradients(), { perturbation: { _tag: 'baseline', probability: 1 }, nPerturbSamples: 3 }), model, x, call)())
    expect(sumAbsErr(got, [0.10686, 0, 0, 0])).toBeLessThanOrEqual(0.05)
    const ig = await attribute(integratedGradients({ returnConvergenceDelta: true }), model, x, call)()
    if (E.isLeft(ig)) throw new Error(ig.left.message)
    const delta = ig.right.delta!.data as Float32Array
    delta.forEach((d, i) => expect(Math.abs(Number(got.data[i]) - d * d)).toBeLessThan(1e-4 * Math.max(1, d * d)))
    // the same with the precomputed attributions
    const given = await scoresOf(evaluate(infidelity('given', { perturbation: { _tag: 'baseline' }, nPerturbSamples: 3 }), model, x, { ...call, attributions: ig.right.attributions })())
    expect(Array.from(given.data as Float32Array)).toEqual(Array.from(got.data as Float32Array))
    ;[x, add, base].forEach((t) => t.dispose())
  })
})

describe('Fixture L: sensitivityMax', () => {
  it('IG on BasicModel_MultiLayer, multidim output, 1 sample of x + arange(−n/2, n/2)/100 → [0.006, 0.01, 0.001, 0.008]', async () => {
    const model = fromTfjs((x: tf.Tensor) => multiLayerMultidim(x))
    const x = tf.tensor2d(Array.from({ length: 12 }, (_, i) => i + 1), [4, 3])
    const before = tf.memory().numTensors
    const metric = sensitivityMax(integratedGradients(), { nPerturbSamples: 1, maxExamplesPerBatch: 4, perturbation: { _tag: 'custom', name: 'ratio' } })
    const got = await scoresOf(evaluate(metric, model, x, { target: [[0, 1, 1], [0, 1, 1], [1, 1, 1], [0, 1, 1]], plugins: { perturbations: { ratio } } })())
    expect(sumAbsErr(got, [0.006, 0.01, 0.001, 0.008])).toBeLessThanOrEqual(0.05)
    // row 0 stays in the linear region of the model, where IG = 24·x: the score is ‖δ‖/‖x‖
    expect(Math.abs(Number(got.data[0]) - Math.hypot(0.02, 0.01) / Math.hypot(1, 2, 3))).toBeLessThan(1e-5)
    expect(tf.memory().numTensors).toBe(before)
    x.dispose()
  })

  it('DeepLift on the same model, baseline ones, extra args (add_input, multidim), 10 uniform samples of radius 0.02 → [0.01, 0.003, 0.001, 0.001]', async () => {
    const model = fromTfjs(multiLayerMultidim)
    const x = tf.tensor2d(Array.from({ length: 12 }, (_, i) => i + 1), [4, 3])
    const add = tf.tensor2d(Array.from({ length: 12 }, (_, i) => i + 1), [4, 3])
    const before = tf.memory().numTensors
    // Captum draws the perturbations at random too: its tolerance (0.05) covers the draws
    for (const seed of [0, 1]) {
      const got = await scoresOf(evaluate(sensitivityMax(deepLift()), model, x, { seed, target: [[0, 1, 1], [0, 1, 1], [1, 1, 1], [0, 1, 1]], baselines: 1, additionalForwardArgs: [add] })())
      expect(sumAbsErr(got, [0.01, 0.003, 0.001, 0.001])).toBeLessThanOrEqual(0.05)
    }
    expect(tf.memory().numTensors).toBe(before)
    ;[x, add].forEach((t) => t.dispose())
  })
})
