// Deletion and insertion curves (MoRF / LeRF) and their trapezoid AUC: closed forms on a linear
// model with exact attributions, negative controls, chunking, bad input, JSON, no leaks.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import {
  ClarusError, METRICS, attribute, decodePipeline, deletion, deletionCurve, insertionCurve, describe as describePipeline, evaluate, insertion, integratedGradients, monotonicity, pipeline, saliency, stage,
  type AttributionError, type CallOptions, type Pipeline,
} from '../../../src/index.js'
import { monotonicFromFirstStep, trapezoidAuc } from '../../../src/dsl/stages/curveScore.js'
import { flipOrder } from '../../../src/dsl/stages/flipPerturb.js'

const W = [0.5, -2, 1.5, 0.25]
/** F(x) = w·x. */
const linear = fromTfjs((x: tf.Tensor) => tf.tidy(() => tf.matMul(x as tf.Tensor2D, tf.tensor2d(W, [4, 1]))))
const X = [[1, 2, -1, 0.5], [-0.5, 1, 3, 2]]
const X0 = [0, 1, 0, 1]
/** Exact attributions of the linear model from x′ = X0: w ⊙ (x − x′). */
const EXACT = X.map((r) => r.map((xi, i) => W[i]! * (xi - X0[i]!)))

const run = async (metric: Pipeline, options: CallOptions<tf.Tensor> = {}, model = linear): Promise<E.Either<AttributionError, number[]>> => {
  const xs = tf.tensor2d(X)
  const b = tf.tensor2d([X0])
  try {
    const r = await evaluate(metric, model, xs, { baselines: b, ...options })()
    return E.map((m: { scores: { data: ArrayLike<number> } }) => Array.from(m.scores.data))(r)
  } finally {
    xs.dispose()
    b.dispose()
  }
}
const scores = async (metric: Pipeline, options: CallOptions<tf.Tensor> = {}): Promise<number[]> => {
  const r = await run(metric, options)
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`)
  return r.right
}
const withGiven = async (metric: Pipeline, rows: number[][], options: CallOptions<tf.Tensor> = {}): Promise<number[]> => {
  const a = tf.tensor2d(rows)
  try {
    return await scores(metric, { attributions: a, ...options })
  } finally {
    a.dispose()
  }
}

/** The curve a linear model draws: F moves by the attribution of each changed feature (exact attributions). */
const expectedAuc = (r: number, mode: 'deletion' | 'insertion', order: 'morf' | 'lerf', stepSize: number): number => {
  const a = EXACT[r]!
  const fx = X[r]!.reduce((s, xi, i) => s + W[i]! * xi, 0)
  const fx0 = X0.reduce((s, xi, i) => s + W[i]! * xi, 0)
  const ord = Array.from(flipOrder(a, order))
  const curve: number[] = []
  for (let s = 0; s <= Math.ceil(a.length / stepSize); s++) {
    const moved = ord.slice(0, Math.min(a.length, s * stepSize)).reduce((acc, i) => acc + a[i]!, 0)
    curve.push(mode === 'deletion' ? fx - moved : fx0 + moved)
  }
  return trapezoidAuc(curve)
}

beforeAll(async () => {
  await tf.setBackend('cpu')
})

describe('helpers', () => {
  it('orders by attribution (ties by position) and integrates by the trapezoid rule on [0, 1]', () => {
    expect(Array.from(flipOrder([0.5, 2, -1, 2], 'morf'))).toEqual([1, 3, 0, 2])
    expect(Array.from(flipOrder([0.5, 2, -1, 2], 'lerf'))).toEqual([2, 0, 1, 3])
    expect(trapezoidAuc([1, 1, 1])).toBe(1)
    expect(trapezoidAuc([2, 0])).toBe(1)
    expect(trapezoidAuc([4, 2, 0, 0])).toBeCloseTo((3 + 1 + 0) / 3, 12)
    expect(trapezoidAuc([7])).toBe(7)
  })
})

describe('deletion and insertion', () => {
  it('match the closed form for exact attributions of a linear model (MoRF and LeRF, any step size)', async () => {
    for (const mode of ['deletion', 'insertion'] as const) {
      for (const order of ['morf', 'lerf'] as const) {
        for (const stepSize of [1, 3, 4]) {
          const m = (mode === 'deletion' ? deletion : insertion)(integratedGradients({ nSteps: 8 }), { order, stepSize })
          const got = await scores(m)
          got.forEach((v, r) => expect(v, `${mode} ${order} step ${stepSize}`).toBeCloseTo(expectedAuc(r, mode, order, stepSize), 4))
        }
      }
    }
    // by hand, example 0: a = (0.5, −2, −1.5, −0.125), F(x) = −4.875, F(x′) = −1.75; MoRF removes
    // features 0, 3, 2, 1: the curve −4.875, −5.375, −5.25, −3.75, −1.75
    const [d0] = await withGiven(deletion('given'), EXACT)
    expect(d0).toBeCloseTo(-35.375 / 8, 5)
  })

  it('a faithful ranking beats a reversed one (negative control), and MoRF deletion ≤ LeRF deletion', async () => {
    const reversed = EXACT.map((r) => r.map((v) => -v))
    const good = await withGiven(deletion('given'), EXACT)
    const bad = await withGiven(deletion('given'), reversed)
    good.forEach((v, r) => expect(v).toBeLessThan(bad[r]! - 0.1))
    const goodIn = await withGiven(insertion('given'), EXACT)
    const badIn = await withGiven(insertion('given'), reversed)
    goodIn.forEach((v, r) => expect(v).toBeGreaterThan(badIn[r]! + 0.1))
    const lerf = await withGiven(deletion('given', { order: 'lerf' }), EXACT)
    good.forEach((v, r) => expect(v).toBeLessThan(lerf[r]!))
  })

  it('deletionCurve / insertionCurve return the curve itself ([N, S], F before any change first) and its AUC', async () => {
    const xs = tf.tensor2d(X)
    const b = tf.tensor2d([X0])
    const a = tf.tensor2d(EXACT)
    try {
      for (const [build, mode] of [[deletionCurve, 'deletion'], [insertionCurve, 'insertion']] as const) {
        const r = await attribute(build('given', { stepSize: 1 }), linear, xs, { baselines: b, attributions: a, memoryBudgetBytes: 1 })()
        if (E.isLeft(r)) throw new Error(r.left.message)
        const [curves, auc] = r.right.attributions
        expect(curves!.shape).toEqual([2, 5])
        expect(auc!.shape).toEqual([2])
        for (let row = 0; row < 2; row++) {
          const c = Array.from(curves!.data as Float32Array).slice(row * 5, row * 5 + 5)
          const fx = X[row]!.reduce((s, xi, i) => s + W[i]! * xi, 0)
          const fx0 = X0.reduce((s, xi, i) => s + W[i]! * xi, 0)
          expect(c[0]).toBeCloseTo(mode === 'deletion' ? fx : fx0, 5)
          expect(c[4]).toBeCloseTo(mode === 'deletion' ? fx0 : fx, 5)
          expect(auc!.data[row]).toBeCloseTo(trapezoidAuc(c), 5)
          expect(auc!.data[row]).toBeCloseTo(expectedAuc(row, mode, 'morf', 1), 4)
        }
      }
      // by hand, example 0's MoRF deletion curve (see the closed-form test above)
      const r = await attribute(deletionCurve('given'), linear, xs, { baselines: b, attributions: a })()
      if (E.isLeft(r)) throw new Error(r.left.message)
      Array.from(r.right.attributions[0]!.data as Float32Array).slice(0, 5).forEach((v, i) => expect(v).toBeCloseTo([-4.875, -5.375, -5.25, -3.75, -1.75][i]!, 5))
      expect(describePipeline(deletionCurve(saliency()))).toMatch(/F along the curve per example, and its trapezoid area/)
      // evaluate wants one score per example: a curve pipeline is refused with a pointer to attribute
      const ev = await evaluate(deletionCurve('given'), linear, xs, { baselines: b, attributions: a })()
      expect(E.isLeft(ev) && ev.left.message).toMatch(/returned 2 tensor/)
    } finally {
      xs.dispose()
      b.dispose()
      a.dispose()
    }
  })

  it('does not depend on chunking', async () => {
    const m = deletion(saliency({ abs: false }), { stepSize: 1 })
    const whole = await scores(m)
    expect(await scores(m, { memoryBudgetBytes: 1 })).toEqual(whole)
  })
})

describe('monotonicity', () => {
  it('the check skips the bare baseline, as Quantus does', () => {
    expect(monotonicFromFirstStep([5, 0, 1, 1, 2])).toBe(1)
    expect(monotonicFromFirstStep([0, 1, 2, 1.5])).toBe(0)
    expect(monotonicFromFirstStep([0, 1])).toBe(1)
    expect(monotonicFromFirstStep([0, 1, NaN])).toBeNaN()
  })

  it('linear model, exact attributions: 1 when every feature added after the first raises F, 0 otherwise', async () => {
    // contributions w ⊙ (x − x′): example 0 (0.5, −2, −1.5, −0.125), added −2, −1.5, −0.125, 0.5:
    // F falls at step 2; example 1 (−0.25, 0, 4.5, 0.25), added −0.25, 0, 0.25, 4.5: F never falls after step 1
    const got = await scores(monotonicity(integratedGradients({ nSteps: 8 })))
    expect(got).toEqual([0, 1])
    // negative control: the reversed order adds example 1's −0.25 last
    const reversed = await withGiven(monotonicity('given'), EXACT.map((r) => r.map((v) => -v)))
    expect(reversed[1]).toBe(0)
    // one step of all four features: nothing to compare
    expect(await scores(monotonicity(integratedGradients({ nSteps: 8 }), { stepSize: 4 }))).toEqual([1, 1])
  })
})

describe('as values and bad input', () => {
  it('survive JSON and print with describe', () => {
    const ps = [deletion(saliency()), insertion('given', { order: 'lerf', stepSize: 16 }), METRICS.deletion.build('given', { stepSize: 2 }), monotonicity(saliency(), { stepSize: 3 })]
    for (const p of ps) {
      const back = decodePipeline(JSON.parse(JSON.stringify(p)))
      expect(E.isRight(back) && back.right).toEqual(p)
    }
    expect(describePipeline(ps[0]!)).toMatch(/flipPerturb\(x with the most relevant features set to x′, 1 more per step\)/)
    expect(describePipeline(ps[1]!)).toMatch(/x′ with the least relevant features set to x, 16 more per step/)
    expect(describePipeline(ps[0]!)).toMatch(/curveScore\(trapezoid area under F along the curve\)/)
    expect(describePipeline(ps[3]!)).toMatch(/curveScore\(1 if F never decreases after the first step, else 0\)/)
    expect(METRICS.insertion.better).toBe('higher')
    expect(METRICS.deletion.better).toBe('lower')
  })

  it('bad options name their fields; hand-written pipelines without F(x) are refused', () => {
    const e = ((): unknown => {
      try {
        METRICS.deletion.build(saliency(), { order: 'random', stepSize: 0 })
      } catch (u) {
        return u
      }
      return undefined
    })()
    expect(e).toBeInstanceOf(ClarusError)
    const error = (e as ClarusError).error
    const paths = error._tag === 'InvalidSpec' ? error.issues.map((i) => i.path.join('.')) : []
    expect(paths).toEqual(expect.arrayContaining(['order', 'stepSize']))
    expect(() => pipeline('m', stage.explain({ pipeline: saliency() }), stage.flipPerturb({ mode: 'deletion', order: 'morf', stepSize: 1 }), stage.forward(), stage.curveScore({ score: 'auc' }))).toThrow(/'reference'/)
    expect(() => pipeline('m', stage.reference(), stage.explain({ pipeline: saliency() }), stage.flipPerturb({ mode: 'deletion', order: 'morf', stepSize: 1 }), stage.curveScore({ score: 'auc' }))).toThrow(/curveScore/)
  })

  it('missing attributions, a target with several outputs, integer inputs', async () => {
    const miss = await run(deletion('given'))
    expect(E.isLeft(miss) && miss.left.message).toMatch(/pass options.attributions/)
    const three = fromTfjs((x: tf.Tensor) => tf.tidy(() => tf.matMul(x as tf.Tensor2D, tf.ones([4, 3]))))
    const a = tf.tensor2d(EXACT)
    const r = await run(deletion('given'), { target: null, attributions: a }, three)
    expect(E.isLeft(r) && r.left._tag).toBe('BadTarget')
    a.dispose()
    const ints = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32')
    const ai = tf.zeros([1, 4], 'int32')
    const b = tf.zeros([1, 4], 'int32')
    const ri = await evaluate(deletion('given'), linear, ints, { attributions: ai, baselines: b })()
    expect(E.isLeft(ri) && ri.left._tag).toBe('DTypeMismatch')
    ints.dispose()
    ai.dispose()
    b.dispose()
  })

  it('leaves no tfjs tensors behind', async () => {
    const before = tf.memory().numTensors
    await scores(deletion(integratedGradients({ nSteps: 4 }), { stepSize: 2 }), { memoryBudgetBytes: 1 })
    await scores(insertion(saliency()))
    await run(deletion('given'))
    expect(tf.memory().numTensors).toBe(before)
  })
})
