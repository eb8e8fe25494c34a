// Quantus-style metrics that are functions of the explanation (sparseness, complexity) or of its
// completeness delta: analytic cases, negative controls, bad input, JSON and describe, no leaks.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import {
  ClarusError, METRICS, completeness, complexity, decodePipeline, describe as describePipeline, evaluate, integratedGradients, pipeline, saliency, sparseness, stage,
  type AttributionError, type CallOptions, type Pipeline,
} from '../../../src/index.js'
import { attributionEntropy, giniIndex } from '../../../src/dsl/stages/explanationScore.js'

const W = [0.5, -2, 1.5, 0.25]
/** F(x) = w·x. */
const linear = fromTfjs((x: tf.Tensor) => tf.tidy(() => tf.matMul(x as tf.Tensor2D, tf.tensor2d(W, [4, 1]))))
/** F(x) = Σ x²: Saliency is not complete on it. */
const square = fromTfjs((x: tf.Tensor) => tf.tidy(() => tf.sum(tf.square(x), 1, true)))
/** Two inputs: F(a, b) = Σ a + 2 Σ b. */
const twoInputs = fromTfjs((a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.add(tf.sum(a, 1, true), tf.mul(tf.sum(b, 1, true), 2))))

const X = [[1, 2, -1, 0.5], [-0.5, 1, 3, 2]]

const run = async (metric: Pipeline, model: typeof linear, inputs: () => tf.Tensor[], options: CallOptions<tf.Tensor> = {}): Promise<E.Either<AttributionError, number[]>> => {
  const xs = inputs()
  try {
    const r = await evaluate(metric, model, xs, options)()
    return E.map((m: { scores: { data: ArrayLike<number> } }) => Array.from(m.scores.data))(r)
  } finally {
    xs.forEach((t) => t.dispose())
  }
}
const scores = async (metric: Pipeline, model: typeof linear, options: CallOptions<tf.Tensor> = {}, inputs = (): tf.Tensor[] => [tf.tensor2d(X)]): Promise<number[]> => {
  const r = await run(metric, model, inputs, options)
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`)
  return r.right
}
const failure = async (metric: Pipeline, model: typeof linear, options: CallOptions<tf.Tensor> = {}, inputs = (): tf.Tensor[] => [tf.tensor2d(X)]): Promise<AttributionError> => {
  const r = await run(metric, model, inputs, options)
  if (E.isRight(r)) throw new Error(`expected an error, got scores ${r.right.join(', ')}`)
  return r.left
}
/** Scores of the given attributions (rows of 4) with `metric`. */
const ofGiven = async (metric: Pipeline, rows: number[][]): Promise<number[]> => {
  const a = tf.tensor2d(rows)
  try {
    return await scores(metric, linear, { attributions: a }, () => [tf.tensor2d(rows.map(() => [1, 1, 1, 1]))])
  } finally {
    a.dispose()
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu')
})

describe('the score functions', () => {
  it('Gini: 0 for a constant vector, (n − 1)/n for a one-hot one, sign-blind and scale-free', () => {
    expect(giniIndex([3, 3, 3, 3])).toBe(0)
    expect(giniIndex([0, 0, 5, 0])).toBeCloseTo(3 / 4, 12)
    expect(giniIndex(Array.from({ length: 1000 }, (_, i) => (i === 17 ? -2 : 0)))).toBeCloseTo(999 / 1000, 12)
    expect(giniIndex([1, -2, 3])).toBeCloseTo(giniIndex([10, 20, 30]), 12)
    // by hand: sorted (1, 2, 3), Σ (2i − 4) a_(i) = −2 + 0 + 6 = 4, over 3 · 6
    expect(giniIndex([3, 1, 2])).toBeCloseTo(4 / 18, 12)
    expect(giniIndex([0, 0, 0])).toBe(0)
  })

  it('entropy: log n for uniform, 0 for one-hot, NaN for all zeros', () => {
    expect(attributionEntropy([2, -2, 2, 2, -2])).toBeCloseTo(Math.log(5), 12)
    expect(attributionEntropy([0, 7, 0])).toBe(0)
    expect(attributionEntropy([1, 3])).toBeCloseTo(-(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75)), 12)
    expect(attributionEntropy([0, 0])).toBeNaN()
  })
})

describe('sparseness and complexity', () => {
  it('one-hot attributions are the sparsest and simplest, uniform ones the least (analytic case and negative control)', async () => {
    const rows = [[0, 0, -4, 0], [1, 1, 1, 1]]
    const g = await ofGiven(sparseness('given'), rows)
    expect(g[0]).toBeCloseTo(3 / 4, 6)
    expect(g[1]).toBe(0)
    const h = await ofGiven(complexity('given'), rows)
    expect(h[0]).toBe(0)
    expect(h[1]).toBeCloseTo(Math.log(4), 6)
  })

  it('run a method: Saliency on a linear model scores |w|, for every example', async () => {
    const s = await scores(sparseness(saliency()), linear)
    const c = await scores(complexity(saliency()), linear)
    const absW = W.map(Math.abs)
    s.forEach((v) => expect(v).toBeCloseTo(giniIndex(absW), 6))
    c.forEach((v) => expect(v).toBeCloseTo(attributionEntropy(absW), 6))
    // the attributions depend on x for IG: the two examples differ
    const ig = await scores(sparseness(integratedGradients({ nSteps: 8 })), linear)
    expect(ig[0]).not.toBeCloseTo(ig[1]!, 3)
  })

  it('all inputs of an example are scored together', async () => {
    // Saliency of Σ a + 2 Σ b: (1, 1) and (2, 2, 2): 5 values
    const twoX = (): tf.Tensor[] => [tf.ones([1, 2]), tf.ones([1, 3])]
    const [h] = await scores(complexity(saliency()), twoInputs, {}, twoX)
    const p = [1, 1, 2, 2, 2].map((v) => v / 8)
    expect(h).toBeCloseTo(-p.reduce((a, q) => a + q * Math.log(q), 0), 6)
    const [g] = await scores(sparseness(saliency()), twoInputs, {}, twoX)
    expect(g).toBeCloseTo(giniIndex([1, 1, 2, 2, 2]), 6)
  })
})

describe('completeness', () => {
  it('is 0 for IG on a linear model, and |Σ a − (F(x) − F(x′))| for Saliency on Σ x² (negative control)', async () => {
    const b = tf.tensor2d([[0, 1, 0, 1]])
    const ig = await scores(completeness(integratedGradients({ nSteps: 4 })), linear, { baselines: b })
    ig.forEach((v) => expect(v).toBeLessThan(1e-5))
    // Saliency (|2x|) on Σ x² with x′ = (0, 1, 0, 1)
    const sal = await scores(completeness(saliency()), square, { baselines: b })
    sal.forEach((v, i) => {
      const x = X[i]!
      const sum = x.reduce((a, xi) => a + Math.abs(2 * xi), 0)
      const d = x.reduce((a, xi) => a + xi * xi, 0) - 2
      expect(v).toBeCloseTo(Math.abs(sum - d), 4)
      expect(v).toBeGreaterThan(0.5)
    })
    b.dispose()
  })

  it('given attributions, with zero baselines by default', async () => {
    const exact = tf.tensor2d(X.map((r) => r.map((xi, i) => xi * W[i]!)))
    const got = await scores(completeness('given'), linear, { attributions: exact })
    got.forEach((v) => expect(v).toBeLessThan(1e-6))
    const off = tf.add(exact, tf.tensor2d([[0.5, 0, 0, 0], [0, 0, 0, -0.25]]))
    const gotOff = await scores(completeness('given'), linear, { attributions: off })
    expect(gotOff[0]).toBeCloseTo(0.5, 5)
    expect(gotOff[1]).toBeCloseTo(0.25, 5)
    exact.dispose()
    off.dispose()
  })
})

describe('as values', () => {
  it('survive JSON, print with describe, and carry their metadata', () => {
    const ps = [sparseness(saliency()), complexity('given'), completeness(integratedGradients({ nSteps: 4 })), METRICS.sparseness.build('given'), METRICS.completeness.build(saliency(), {})]
    for (const p of ps) {
      const back = decodePipeline(JSON.parse(JSON.stringify(p)))
      expect(E.isRight(back) && back.right).toEqual(p)
    }
    expect(describePipeline(ps[0]!)).toMatch(/explanationScore\(Gini index of \|a\|\)/)
    expect(describePipeline(ps[1]!)).toMatch(/entropy of \|a\| \/ Σ \|a\|/)
    expect(describePipeline(ps[2]!)).toMatch(/completenessDelta[\s\S]*\|Σ a − \(F\(x\) − F\(x′\)\)\|/)
    expect(METRICS.sparseness.better).toBe('higher')
    expect(METRICS.complexity.better).toBe('lower')
    expect(METRICS.completeness.category).toBe('axiomatic')
    expect(METRICS.complexity.stochastic).toBe(false)
  })
})

describe('bad input', () => {
  it('options that are not an object throw a ClarusError', () => {
    expect(() => METRICS.sparseness.build('given', 3)).toThrow(ClarusError)
    expect(() => METRICS.completeness.build(saliency(), null)).toThrow(ClarusError)
  })

  it('hand-written pipelines: absDelta without a delta, a score inside an expansion', () => {
    expect(() => pipeline('m', stage.explain({ pipeline: saliency() }), stage.explanationScore({ score: 'absDelta' }))).toThrow(/completenessDelta/)
    expect(() => pipeline('m', stage.explanationScore({ score: 'gini' }))).toThrow(/explanationScore scores an explanation/)
  })

  it('missing or mis-shaped attributions, a target with several outputs per example', async () => {
    expect((await failure(sparseness('given'), linear)).message).toMatch(/pass options.attributions/)
    const wrong = tf.zeros([2, 3])
    expect((await failure(complexity('given'), linear, { attributions: wrong }))._tag).toBe('ShapeMismatch')
    wrong.dispose()
    const three = fromTfjs((x: tf.Tensor) => tf.tidy(() => tf.matMul(x as tf.Tensor2D, tf.ones([4, 3]))))
    const e = await failure(completeness(saliency()), three, { target: null })
    expect(e._tag).toBe('BadTarget')
    expect(e.message).toMatch(/pass a target/)
  })
})

describe('tfjs tensors', () => {
  it('are all disposed after every call, successful or not', async () => {
    const before = tf.memory().numTensors
    await scores(sparseness(saliency()), square)
    await scores(complexity(integratedGradients({ nSteps: 4 })), square)
    await scores(completeness(integratedGradients({ nSteps: 4 })), square)
    await failure(sparseness('given'), linear)
    expect(tf.memory().numTensors).toBe(before)
  })
})
