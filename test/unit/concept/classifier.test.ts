// The CAV classifiers: the closed-form mean difference against hand-computed values, and the
// seeded SGD linear classifier (reproducible per key, [−w, w] rows for two concepts, one-vs-rest
// for three, the right direction on separable data), plus the t-test against scipy's values.
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { linearClassifier, meanDifference, type ConceptActivations, type TrainedClassifier } from '../../../src/concept/classifier.js'
import { tTest, studentTwoSidedP } from '../../../src/concept/tTest.js'
import { keyOf, normals } from '../../../src/core/random.js'
import { left, right } from '../../helpers/reference.js'

const acts = (rows: readonly (readonly number[])[], labels: readonly number[]): ConceptActivations => ({
  rows: rows.length,
  dim: rows[0]!.length,
  x: Float32Array.from(rows.flat()),
  labels: Int32Array.from(labels),
})

const sync = (r: E.Either<unknown, TrainedClassifier> | Promise<unknown>): TrainedClassifier => {
  if (r instanceof Promise) throw new Error('expected a synchronous classifier')
  return right(r as E.Either<never, TrainedClassifier>)
}

/** Well separated clusters in 6 dims: the i-th listed class around +2·e_i, seeded noise of sd 0.3. */
const clusters = (perClass: number, classes: readonly number[], seed = 11): ConceptActivations => {
  const d = 6
  const noise = normals(keyOf(seed), perClass * classes.length * d)
  const rows: number[][] = []
  const labels: number[] = []
  classes.forEach((c, ci) => {
    for (let i = 0; i < perClass; i++) {
      const r = Array.from({ length: d }, (_, j) => 0.3 * noise[(ci * perClass + i) * d + j]! + (j === ci ? 2 : 0))
      rows.push(r)
      labels.push(c)
    }
  })
  return acts(rows, labels)
}

describe('meanDifference', () => {
  it('rows are class mean − overall mean, classes ascending, nearest-centroid training accuracy', () => {
    // class 7 listed first: classes still come out ascending
    const r = sync(meanDifference(acts([[0, 4], [1, 0], [3, 2]], [7, 5, 5]), keyOf(0)))
    expect(r.classes).toEqual([5, 7])
    // mean5 = [2, 1], mean7 = [0, 4], overall = [4/3, 2]
    expect(Array.from(r.weights)).toEqual([2 - 4 / 3, 1 - 2, 0 - 4 / 3, 4 - 2].map(Math.fround))
    expect(r.accuracy).toBe(1)
  })

  it('ties go to the lowest class id', () => {
    // both class means are 1: every row is equally near both, so all are called class 1
    const r = sync(meanDifference(acts([[0], [2], [1], [1]], [1, 1, 2, 2]), keyOf(0)))
    expect(Array.from(r.weights)).toEqual([0, 0])
    expect(r.accuracy).toBe(0.5)
  })

  it('one class only is an EmptyInput error', () => {
    expect(left(meanDifference(acts([[1], [2]], [4, 4]), keyOf(0)) as E.Either<never, never>)._tag).toBe('EmptyInput')
  })
})

describe('linearClassifier (seeded SGD)', () => {
  it('the same key gives bit-identical CAVs; another key gives other ones', () => {
    const a = clusters(8, [1, 3])
    const f = linearClassifier()
    const one = sync(f(a, keyOf(5)))
    const two = sync(f(a, keyOf(5)))
    const other = sync(f(a, keyOf(6)))
    expect(Array.from(two.weights)).toEqual(Array.from(one.weights))
    expect(Array.from(other.weights)).not.toEqual(Array.from(one.weights))
  })

  it('two concepts: rows [−w, w] in ascending class order, pointing from class 1 to class 3', () => {
    const a = clusters(8, [3, 1])
    const r = sync(linearClassifier()(a, keyOf(2)))
    expect(r.classes).toEqual([1, 3])
    const d = a.dim
    for (let j = 0; j < d; j++) expect(r.weights[j]).toBe(-r.weights[d + j]!)
    // class 3 sits at +2·e0 and class 1 at +2·e1: w (row of class 3) must favour e0 over e1
    expect(r.weights[d]!).toBeGreaterThan(0)
    expect(r.weights[d + 1]!).toBeLessThan(0)
    expect(r.accuracy).toBe(1)
  })

  it('three concepts: one-vs-rest rows, each largest on its own cluster axis; logistic loss too', () => {
    for (const loss of ['hinge', 'log'] as const) {
      const a = clusters(9, [0, 1, 2], 4)
      const r = sync(linearClassifier({ loss })(a, keyOf(9)))
      expect(r.classes).toEqual([0, 1, 2])
      for (let c = 0; c < 3; c++) {
        const row = Array.from(r.weights.subarray(c * a.dim, (c + 1) * a.dim))
        expect(row.indexOf(Math.max(...row))).toBe(c)
      }
      expect(r.accuracy).toBe(1)
    }
  })
})

describe('tTest (values from scipy.stats.ttest_ind 1.17)', () => {
  const a = [0.9, 0.8, 1.0, 0.85, 0.95]
  const b = [0.5, 0.6, 0.4, 0.55]
  it("Student's pooled test", () => {
    const r = tTest(a, b)
    expect(r.statistic).toBeCloseTo(7.059010527661059, 10)
    expect(r.df).toBe(7)
    expect(r.pValue).toBeCloseTo(0.00020078211108114088, 12)
    const s = tTest([0.1, 0.4, 0.3], [0.2, 0.35, 0.25, 0.3, 0.5])
    expect(s.statistic).toBeCloseTo(-0.5666305975798629, 10)
    expect(s.pValue).toBeCloseTo(0.5915143132910488, 10)
  })
  it("Welch's test", () => {
    const r = tTest(a, b, false)
    expect(r.statistic).toBeCloseTo(6.990308060426311, 10)
    expect(r.df).toBeCloseTo(6.3023536511768254, 10)
    expect(r.pValue).toBeCloseTo(0.0003434469808909508, 12)
    expect(tTest([0.1, 0.4, 0.3], [0.2, 0.35, 0.25, 0.3, 0.5], false).pValue).toBeCloseTo(0.6336419691728172, 10)
  })
  it('two-sided p-values of the t distribution, also at fractional df', () => {
    expect(studentTwoSidedP(2, 10)).toBeCloseTo(0.07338803477074037, 12)
    expect(studentTwoSidedP(0.5, 3)).toBeCloseTo(0.651447964848151, 12)
    expect(studentTwoSidedP(12, 1.5)).toBeCloseTo(0.018042029274027864, 12)
    expect(studentTwoSidedP(-2, 10)).toBeCloseTo(0.07338803477074037, 12)
  })
  it('constant equal samples give NaN (as scipy); fewer than 2 values throw', () => {
    expect(Number.isNaN(tTest([1, 1, 1], [1, 1, 1]).pValue)).toBe(true)
    expect(tTest([1, 1, 1], [0, 0, 0]).pValue).toBe(0)
    expect(() => tTest([1], [1, 2])).toThrow(RangeError)
  })
})
