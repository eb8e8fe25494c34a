// Max- and avg-sensitivity and the local Lipschitz estimate: 0 for the gradient of a linear model,
// closed forms for a fixed perturbation of Σ x², seeds and chunking, bad input, JSON, no leaks.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import {
  ClarusError, METRICS, avgSensitivity, decodePipeline, describe as describePipeline, evaluate, integratedGradients, localLipschitzEstimate, maxSensitivity, pipeline, saliency, stage,
  type AttributionError, type CallOptions, type PerturbationFn, type Pipeline,
} from '../../../src/index.js'

const W = [0.5, -2, 1.5, 0.25]
const linear = fromTfjs((x: tf.Tensor) => tf.tidy(() => tf.matMul(x as tf.Tensor2D, tf.tensor2d(W, [4, 1]))))
/** F(x) = Σ x²: e(x) = 2x. */
const square = fromTfjs((x: tf.Tensor) => tf.tidy(() => tf.sum(tf.square(x), 1, true)))
/** F(x) = Σ x³/3: e(x) = x², which moves more than in proportion to x. */
const cube = fromTfjs((x: tf.Tensor) => tf.tidy(() => tf.div(tf.sum(tf.pow(x, 3), 1, true), 3)))
const X = [[1, 2, -1, 0.5], [-0.5, 1, 3, 2]]

const run = async (metric: Pipeline, model: typeof linear, options: CallOptions<tf.Tensor> = {}): Promise<E.Either<AttributionError, number[]>> => {
  const xs = tf.tensor2d(X)
  try {
    const r = await evaluate(metric, model, xs, options)()
    return E.map((m: { scores: { data: ArrayLike<number> } }) => Array.from(m.scores.data))(r)
  } finally {
    xs.dispose()
  }
}
const scores = async (metric: Pipeline, model: typeof linear, options: CallOptions<tf.Tensor> = {}): Promise<number[]> => {
  const r = await run(metric, model, options)
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`)
  return r.right
}

/** Sample k moves every element by deltas[k]. */
const steps = (deltas: readonly number[]): PerturbationFn => ({ inputs, samples }) => {
  const x = inputs[0]!
  const per = x.shape[1]!
  return { perturbed: [{ dtype: 'float32', shape: [...x.shape], data: Float32Array.from(x.data as Float32Array, (v, e) => v + deltas[samples[Math.floor(e / per)]!]!) }] }
}
const plugins = { perturbations: { steps: steps([0.1, -0.3, 0.2]) } }
const custom = { _tag: 'custom', name: 'steps' } as const

beforeAll(async () => {
  await tf.setBackend('cpu')
})

describe('robustness metrics', () => {
  it('are 0 for the gradient of a linear model, and not for one whose gradient moves (negative control)', async () => {
    for (const m of [maxSensitivity, avgSensitivity, localLipschitzEstimate]) {
      const lin = await scores(m(saliency({ abs: false }), { nPerturbSamples: 5 }), linear)
      lin.forEach((v) => expect(v).toBe(0))
      const sq = await scores(m(saliency({ abs: false }), { nPerturbSamples: 5 }), square)
      sq.forEach((v) => expect(v).toBeGreaterThan(1e-3))
    }
  })

  it('match the closed forms for a fixed perturbation x̃ = x + δ_k·1', async () => {
    const deltas = [0.1, -0.3, 0.2]
    const opts = { nPerturbSamples: 3, perturbation: custom }
    // e = 2x on Σ x²: ‖e(x̃) − e(x)‖ = 2|δ|·2 (four elements, Frobenius), ‖e(x)‖ = 2‖x‖, ‖x̃ − x‖ = 2|δ|
    const max = await scores(maxSensitivity(saliency({ abs: false }), opts), square, { plugins })
    const avg = await scores(avgSensitivity(saliency({ abs: false }), opts), square, { plugins })
    const lip = await scores(localLipschitzEstimate(saliency({ abs: false }), opts), square, { plugins })
    X.forEach((x, i) => {
      const nx = Math.hypot(...x)
      expect(max[i]).toBeCloseTo((0.3 * 2) / nx, 5)
      expect(avg[i]).toBeCloseTo(((0.1 + 0.3 + 0.2) / 3) * 2 / nx, 5)
      // the Lipschitz ratio of a linear map e = 2x is its norm: 2, whatever δ
      expect(lip[i]).toBeCloseTo(2, 5)
    })
    // e = x² moves by 2xδ + δ²: its Lipschitz ratio depends on x and δ
    const lipCube = await scores(localLipschitzEstimate(saliency({ abs: false }), { ...opts, normOrd: 'inf' }), cube, { plugins })
    X.forEach((x, i) => {
      const want = Math.max(...deltas.map((d) => Math.max(...x.map((xi) => Math.abs(2 * xi * d + d * d))) / Math.abs(d)))
      expect(lipCube[i]).toBeCloseTo(want, 4)
    })
  })

  it('are seeded and do not depend on chunking', async () => {
    for (const m of [avgSensitivity, localLipschitzEstimate]) {
      const p = (mepb?: number): Pipeline => m(integratedGradients({ nSteps: 4 }), { nPerturbSamples: 5, ...(mepb !== undefined ? { maxExamplesPerBatch: mepb } : {}) })
      const whole = await scores(p(), cube, { seed: 1 })
      expect(await scores(p(2), cube, { seed: 1 })).toEqual(whole)
      expect(await scores(p(), cube, { seed: 1, memoryBudgetBytes: 1 })).toEqual(whole)
      expect(await scores(p(), cube, { seed: 2 })).not.toEqual(whole)
    }
  })

  it('maxSensitivity is sensitivityMax with Quantus\'s defaults', () => {
    const d = describePipeline(maxSensitivity(saliency()))
    expect(d).toMatch(/200 samples, x̃ = x \+ U\(−0.2, 0.2\)/)
    expect(d).toMatch(/sensitivityScore\(max over samples/)
    expect(describePipeline(avgSensitivity(saliency()))).toMatch(/sensitivityStat\(mean over samples of ‖e\(x\) − e\(x̃\)‖ \/ ‖e\(x\)‖, norm fro\)/)
    expect(describePipeline(localLipschitzEstimate(saliency()))).toMatch(/U\(−0.1, 0.1\)[\s\S]*max over samples of ‖e\(x\) − e\(x̃\)‖ \/ ‖x − x̃‖/)
  })
})

describe('as values and bad input', () => {
  it('survive JSON; bad options and given attributions are refused', () => {
    for (const p of [maxSensitivity(saliency()), avgSensitivity(integratedGradients({ nSteps: 3 }), { normOrd: 3 }), localLipschitzEstimate(saliency(), { perturbation: custom })]) {
      const back = decodePipeline(JSON.parse(JSON.stringify(p)))
      expect(E.isRight(back) && back.right).toEqual(p)
    }
    expect(() => METRICS.avgSensitivity.build(saliency(), { normOrd: 0.5, nPerturbSamples: 0 })).toThrow(ClarusError)
    expect(() => METRICS.localLipschitzEstimate.build('given')).toThrow(/re-runs the explained method/)
    expect(() => pipeline('m', stage.explain({ pipeline: saliency() }), stage.sensitivityPerturb({ nSamples: 2, radius: 0.1 }), stage.sensitivityStat({ norm: 'fro', stat: 'mean' }))).toThrow(/sensitivityStat/)
  })

  it('a perturbation that does not move x gives NaN for the Lipschitz estimate; cancellation', async () => {
    const still: PerturbationFn = ({ inputs }) => ({ perturbed: inputs })
    const m = localLipschitzEstimate(saliency(), { nPerturbSamples: 2, perturbation: { _tag: 'custom', name: 'still' } })
    const refused = await run(m, square, { plugins: { perturbations: { still } } })
    expect(E.isLeft(refused) && refused.left._tag).toBe('NonFinite')
    const got = await scores(m, square, { plugins: { perturbations: { still } }, allowNonFinite: true })
    got.forEach((v) => expect(v).toBeNaN())
    const ctl = new AbortController()
    ctl.abort()
    const r = await run(avgSensitivity(saliency()), square, { signal: ctl.signal })
    expect(E.isLeft(r) && r.left._tag).toBe('Cancelled')
  })

  it('leave no tfjs tensors behind', async () => {
    const before = tf.memory().numTensors
    await scores(avgSensitivity(integratedGradients({ nSteps: 3 }), { nPerturbSamples: 3, maxExamplesPerBatch: 2 }), square)
    await scores(localLipschitzEstimate(saliency(), { nPerturbSamples: 3 }), square)
    await run(localLipschitzEstimate(saliency(), { perturbation: custom }), square)
    expect(tf.memory().numTensors).toBe(before)
  })
})
