// Exact sums: the rounded result is the correctly rounded exact sum, whatever the order and grouping.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { addExact, canonicalSums, exactSums, mergeExact, roundSums, type ExactSums } from '../../../src/dsl/exactSum.js'

// exact reference: every double of magnitude ≥ 1e-200 (or 0) is an integer multiple of 2^-720
const SCALE = 720n
const toBig = (x: number): bigint => {
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, x)
  const bits = view.getBigUint64(0)
  const exp = Number((bits >> 52n) & 0x7ffn)
  const frac = bits & ((1n << 52n) - 1n)
  const mant = exp === 0 ? frac : frac | (1n << 52n)
  const shift = BigInt(Math.max(exp, 1) - 1075) + SCALE
  const mag = mant << shift
  return bits >> 63n === 1n ? -mag : mag
}
// Number(bigint) rounds to nearest, ties to even; the power-of-two scaling is exact in this range
const fromBig = (b: bigint): number => Number(b) * 2 ** -720

const sumOf = (xs: readonly number[]): number => {
  const s = exactSums(1)
  for (const x of xs) addExact(s, 0, x)
  return roundSums(s)[0]!
}

const term = fc.oneof(
  fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }),
  fc.double({ min: -1e-6, max: 1e-6, noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -1000, max: 1000 }).map((k) => k * 0.1),
  fc.constantFrom(1, -1, 1e20, -1e20, 1e-20, 2 ** 53, 1 + 2 ** -52),
).filter((x) => x === 0 || Math.abs(x) > 1e-200)

describe('exact sums', () => {
  it('round to the correctly rounded exact sum', () => {
    fc.assert(fc.property(fc.array(term, { maxLength: 40 }), (xs) => {
      expect(sumOf(xs)).toBe(fromBig(xs.reduce((a, x) => a + toBig(x), 0n)))
    }), { seed: 11, numRuns: 400 })
  })
  it('give the same bits in any order and any grouping', () => {
    fc.assert(fc.property(fc.array(term, { minLength: 1, maxLength: 30 }), fc.array(fc.nat(), { minLength: 30, maxLength: 30 }), (xs, cuts) => {
      const whole = sumOf(xs)
      expect(sumOf([...xs].reverse())).toBe(whole)
      // split into runs, sum each, merge the runs in a nested (right-leaning) order
      const runs: ExactSums[] = []
      let at = 0
      for (const c of cuts) {
        if (at >= xs.length) break
        const n = 1 + (c % 4)
        const s = exactSums(1)
        for (const x of xs.slice(at, at + n)) addExact(s, 0, x)
        runs.push(s)
        at += n
      }
      const merged = runs.reduceRight((acc, s) => {
        mergeExact(s, acc)
        return s
      })
      expect(roundSums(merged)[0]).toBe(whole)
    }), { seed: 12, numRuns: 300 })
  })
  it('cancel exactly where plain float64 accumulation leaves residues', () => {
    const xs = [0.1, 0.2, -0.3, 1e16, 1, -1e16]
    expect(xs.reduce((a, b) => a + b, 0)).not.toBe(1) // negative control: the naive sum is off
    expect(sumOf(xs)).toBe(fromBig(xs.reduce((a, x) => a + toBig(x), 0n)))
    expect(sumOf(xs)).not.toBe(xs.reduce((a, b) => a + b, 0))
    expect(sumOf([0.1, 0.2, -0.1, -0.2])).toBe(0)
  })
  it('sum non-finite terms apart, independent of order', () => {
    expect(sumOf([1, Infinity, -3])).toBe(Infinity)
    expect(sumOf([-Infinity, 1e300, 1e300])).toBe(-Infinity)
    expect(sumOf([Infinity, 2, -Infinity])).toBeNaN()
    expect(sumOf([2, NaN, 1])).toBeNaN()
  })
  it('keep each element of an array apart', () => {
    const s = exactSums(3)
    addExact(s, 0, 1e20)
    addExact(s, 0, 1)
    addExact(s, 2, 0.5)
    addExact(s, 0, -1e20)
    expect(Array.from(roundSums(s))).toEqual([1, 0, 0.5])
  })
  it('stay one component wide while every sum is exact in float64, and widen when one is not', () => {
    const s = exactSums(2)
    for (const x of [0.5, 0.25, -3, 2 ** -20]) addExact(s, 0, x)
    addExact(s, 1, 7)
    expect([s.width, Array.from(s.data)]).toEqual([1, [-2.25 + 2 ** -20, 7]])
    // 1e20 + 7 is not a float64: the sums widen, and only element 1 uses the second component
    addExact(s, 1, 1e20)
    expect(s.width).toBe(2)
    expect(Array.from(s.data.subarray(2, 4))).toEqual([7, 1e20])
    expect(s.data[1 * 2 + 1]).not.toBe(0)
    expect(s.data[0 * 2 + 1]).toBe(0)
  })
})

describe('canonical sums', () => {
  it('are equal bits for equal exact values, however they were built', () => {
    fc.assert(fc.property(fc.array(term, { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { minLength: 20, maxLength: 20 }), (xs, order) => {
      const a = exactSums(1)
      for (const x of xs) addExact(a, 0, x)
      const shuffled = xs.map((x, i) => [order[i]!, x] as const).sort((u, v) => u[0] - v[0]).map(([, x]) => x)
      const b = exactSums(1)
      for (const x of shuffled) addExact(b, 0, x)
      const ca = canonicalSums(a)
      const cb = canonicalSums(b)
      expect([ca.width, Array.from(ca.data)]).toEqual([cb.width, Array.from(cb.data)])
      expect(roundSums(ca)[0]).toBe(roundSums(a)[0])
    }), { seed: 13, numRuns: 300 })
  })
})
