import { describe, expect, it } from 'vitest'
import { cumulativeSumThreshold, normalizeAttr, normalizeRange, thresholdFor } from '../../../src/viz/index.js'

// Expected values computed by hand from the rule in captum-semantics.md §9.1: sort ascending,
// running sums, first sorted value whose running sum reaches (100 − outlierPerc)% of the total.
describe('Captum normalisation (cumulative-sum threshold)', () => {
  it('picks the first sorted value whose running sum reaches the percentile of the total', () => {
    // sorted 1 2 3 4, running sums 1 3 6 10
    expect(cumulativeSumThreshold([4, 1, 3, 2], 98)).toBe(4) // goal 9.8 → sum 10 at value 4
    expect(cumulativeSumThreshold([4, 1, 3, 2], 50)).toBe(3) // goal 5 → sum 6 at value 3
    expect(cumulativeSumThreshold([4, 1, 3, 2], 30)).toBe(2) // goal 3 → sum 3 (≥, not >) at value 2
    expect(cumulativeSumThreshold([4, 1, 3, 2], 0)).toBe(1) // goal 0 → the smallest value
    expect(cumulativeSumThreshold([1, 1, 1, 1], 50)).toBe(1)
    // one dominant value: with 2% outliers it is itself the threshold; with 60% the mass below it decides
    expect(cumulativeSumThreshold([100, 1, 1, 1, 1], 98)).toBe(100) // sums 1 2 3 4 104, goal 101.92
    expect(cumulativeSumThreshold([100, 1, 1, 1, 1], 3)).toBe(1) // goal 3.12 → sum 4 at the 4th 1
  })

  it('rejects an empty map and a percentile outside [0, 100]', () => {
    expect(() => cumulativeSumThreshold([], 98)).toThrow(RangeError)
    expect(() => cumulativeSumThreshold([1], 101)).toThrow(/percentile/)
    expect(() => cumulativeSumThreshold([1], Number.NaN)).toThrow(/percentile/)
  })

  it('absolute_value: |v| divided by T(|v|)', () => {
    const n = normalizeAttr([1, -2, 3, -4], 'absolute_value', 2)
    expect(n.threshold).toBe(4)
    expect(Array.from(n.values)).toEqual([0.25, 0.5, 0.75, 1])
    const half = normalizeAttr([1, -2, 3, -4], 'absolute_value', 50)
    expect(half.threshold).toBe(3) // the top 50% of the mass (the 4) is clipped
    expect(Array.from(half.values)).toEqual([1 / 3, 2 / 3, 1, 1])
  })

  it('all: signs kept, threshold from |v|, clipped to [−1, 1]', () => {
    // |v| sorted 1 2 3 4, sums 1 3 6 10, outlierPerc 40 → goal 6 → threshold 3
    const n = normalizeAttr([-4, 1, 2, -3], 'all', 40)
    expect(n.threshold).toBe(3)
    expect(Array.from(n.values)).toEqual([-1, 1 / 3, 2 / 3, -1])
  })

  it('positive: negatives zeroed, threshold from the positives', () => {
    // v = 0 1 2 0 5 → sorted 0 0 1 2 5, sums 0 0 1 3 8, goal 7.84 → threshold 5
    const n = normalizeAttr([-4, 1, 2, -3, 5], 'positive', 2)
    expect(n.threshold).toBe(5)
    expect(Array.from(n.values)).toEqual([0, 0.2, 0.4, 0, 1])
  })

  it('negative: positives zeroed, threshold −T(|v|), so the result is positive', () => {
    // |v| = 4 0 0 3 0 → sorted 0 0 0 3 4, sums 0 0 0 3 7, outlierPerc 20 → goal 5.6 → 4, threshold −4
    const n = normalizeAttr([-4, 1, 2, -3, 5], 'negative', 20)
    expect(n.threshold).toBe(-4)
    expect(Array.from(n.values)).toEqual([1, 0, 0, 0.75, 0])
    expect(thresholdFor([-4, 1, 2, -3, 5], 'negative', 50)).toBe(-4) // goal 3.5 → sum 7 at 4
  })

  it('an all-zero map normalises to zeros (Captum would assert)', () => {
    const n = normalizeAttr([0, 0, 0], 'all')
    expect(n.threshold).toBe(0)
    expect(Array.from(n.values)).toEqual([0, 0, 0])
  })

  it('a fixed range maps [min, max] linearly onto [−1, 1] (all) or [0, 1] (other signs)', () => {
    expect(Array.from(normalizeRange([-2, 0, 1, 4], 'all', { min: -2, max: 2 }).values)).toEqual([-1, 0, 0.5, 1])
    expect(Array.from(normalizeRange([-2, 0, 1, 4], 'absolute_value', { min: 0, max: 4 }).values)).toEqual([0.5, 0, 0.25, 1])
    expect(() => normalizeRange([1], 'all', { min: 1, max: 1 })).toThrow(/min < max/)
  })
})
