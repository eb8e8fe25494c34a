// Faithfulness correlation: 1 for exact attributions of a linear model, −1 for reversed ones,
// seeded and chunk-invariant subsets, bad input, JSON and describe, no leaks.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import {
  METRICS, decodePipeline, describe as describePipeline, evaluate, faithfulnessCorrelation, integratedGradients, saliency,
  type AttributionError, type CallOptions, type Pipeline,
} from '../../../src/index.js'
import { pearson } from '../../../src/dsl/stages/correlationScore.js'
import { drawSubset } from '../../../src/dsl/stages/subsetPerturb.js'

const W = [0.5, -2, 1.5, 0.25, 1, -0.75]
/** F(x) = w·x. */
const linear = fromTfjs((x: tf.Tensor) => tf.tidy(() => tf.matMul(x as tf.Tensor2D, tf.tensor2d(W, [6, 1]))))
/** F(x) = Σ x²: its gradient is not its attribution to a subset. */
const square = fromTfjs((x: tf.Tensor) => tf.tidy(() => tf.sum(tf.square(x), 1, true)))
const X = [[1, 2, -1, 0.5, 3, -2], [-0.5, 1, 3, 2, 0.25, 1]]

const run = async (metric: Pipeline, options: CallOptions<tf.Tensor> = {}, model = linear): Promise<E.Either<AttributionError, number[]>> => {
  const xs = tf.tensor2d(X)
  try {
    const r = await evaluate(metric, model, xs, options)()
    return E.map((m: { scores: { data: ArrayLike<number> } }) => Array.from(m.scores.data))(r)
  } finally {
    xs.dispose()
  }
}
const scores = async (metric: Pipeline, options: CallOptions<tf.Tensor> = {}, model = linear): Promise<number[]> => {
  const r = await run(metric, options, model)
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`)
  return r.right
}

beforeAll(async () => {
  await tf.setBackend('cpu')
})

describe('helpers', () => {
  it('Pearson r and subsets without replacement', () => {
    expect(pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12)
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12)
    expect(pearson([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(0.8, 12)
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNaN()
    const s = Array.from(drawSubset([0.99, 0.5, 0, 0.999], 10, 4))
    expect(new Set(s).size).toBe(4)
    s.forEach((i) => expect(i >= 0 && i < 10).toBe(true))
    expect(Array.from(drawSubset([0, 0, 0], 3, 3))).toEqual([0, 1, 2])
  })
})

describe('faithfulnessCorrelation', () => {
  it('is 1 for exact attributions of a linear model and −1 for reversed ones (negative control)', async () => {
    const m = (e: Parameters<typeof faithfulnessCorrelation>[0]): Pipeline => faithfulnessCorrelation(e, { nSamples: 12, subsetSize: 2 })
    // IG from zero baselines on a linear model: a = w ⊙ x, so Σ_S a = F(x) − F(x_S←0) exactly
    const exact = await scores(m(integratedGradients({ nSteps: 4 })))
    exact.forEach((v) => expect(v).toBeCloseTo(1, 5))
    const a = tf.tensor2d(X.map((r) => r.map((xi, i) => -W[i]! * xi)))
    const reversed = await scores(m('given'), { attributions: a })
    reversed.forEach((v) => expect(v).toBeCloseTo(-1, 5))
    a.dispose()
    // Saliency's |w| ignores x and the sign: far from 1
    const sal = await scores(m(saliency()))
    sal.forEach((v) => expect(v).toBeLessThan(0.9))
  })

  it('is seeded and does not depend on chunking', async () => {
    const m = faithfulnessCorrelation(saliency({ abs: false }), { nSamples: 9, subsetSize: 3 })
    const whole = await scores(m, { seed: 5 }, square)
    expect(await scores(m, { seed: 5, memoryBudgetBytes: 1 }, square)).toEqual(whole)
    expect(await scores(m, { seed: 6 }, square)).not.toEqual(whole)
  })

  it('values: JSON, describe, metadata, bad options', () => {
    const p = METRICS.faithfulnessCorrelation.build(saliency(), { nSamples: 7, subsetSize: 3 })
    const back = decodePipeline(JSON.parse(JSON.stringify(p)))
    expect(E.isRight(back) && back.right).toEqual(p)
    expect(describePipeline(p)).toMatch(/subsetPerturb\(7 samples, 3 random features set to x′\)/)
    expect(describePipeline(p)).toMatch(/Pearson correlation over samples/)
    expect(describePipeline(faithfulnessCorrelation('given'))).toMatch(/100 samples, 224 random features/)
    expect(METRICS.faithfulnessCorrelation.better).toBe('higher')
    expect(() => METRICS.faithfulnessCorrelation.build('given', { subsetSize: 0 })).toThrow(/subsetSize/)
  })

  it('a subset larger than the example, a target with several outputs, integer inputs', async () => {
    const big = await run(faithfulnessCorrelation(saliency(), { subsetSize: 7, nSamples: 2 }))
    expect(E.isLeft(big) && big.left.message).toMatch(/at most 6/)
    const three = fromTfjs((x: tf.Tensor) => tf.tidy(() => tf.matMul(x as tf.Tensor2D, tf.ones([6, 3]))))
    const a = tf.ones([2, 6])
    const t = await run(faithfulnessCorrelation('given', { subsetSize: 2, nSamples: 2 }), { target: null, attributions: a }, three)
    expect(E.isLeft(t) && t.left._tag).toBe('BadTarget')
    a.dispose()
    const ints = tf.tensor2d([[1, 2, 3, 4, 5, 6]], [1, 6], 'int32')
    const ai = tf.zeros([1, 6], 'int32')
    const b = tf.zeros([1, 6], 'int32')
    const ri = await evaluate(faithfulnessCorrelation('given', { subsetSize: 2, nSamples: 2 }), linear, ints, { attributions: ai, baselines: b })()
    expect(E.isLeft(ri) && ri.left._tag).toBe('DTypeMismatch')
    ints.dispose()
    ai.dispose()
    b.dispose()
  })

  it('leaves no tfjs tensors behind', async () => {
    const before = tf.memory().numTensors
    await scores(faithfulnessCorrelation(integratedGradients({ nSteps: 4 }), { nSamples: 5, subsetSize: 2 }), { memoryBudgetBytes: 1 })
    await run(faithfulnessCorrelation(saliency(), { subsetSize: 99 }))
    expect(tf.memory().numTensors).toBe(before)
  })
})
