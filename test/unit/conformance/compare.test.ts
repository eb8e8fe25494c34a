import { describe, expect, it } from 'vitest'
import { float32, int64 } from '../../../src/core/tensor.js'
import { compareTensors } from '../../../src/conformance/compare.js'

const tol = { abs: 1e-4, rel: 1e-3 }

describe('compareTensors', () => {
  it('accepts identical tensors and errors inside abs + rel·|e|', () => {
    const e = float32([2, 2], [1, -2, 100, 0])
    expect(compareTensors(e, e, tol)).toMatchObject({ ok: true, shapeOk: true, maxAbsErr: 0, failures: 0 })
    // allowances: 1e-4 + 1e-3·|e| = 1.1e-3, 2.1e-3, 0.1001, 1e-4
    const a = float32([2, 2], [1 + 1e-3, -2 - 2e-3, 100.1, 9e-5])
    const r = compareTensors(a, e, tol)
    expect(r.ok).toBe(true)
    expect(r.maxAbsErr).toBeCloseTo(0.1, 4)
    expect(r.message).toMatch(/^ok/)
  })

  it('rejects an element just outside its allowance and points at it', () => {
    const e = float32([2, 3], [1, 2, 3, 4, 5, 0])
    const a = float32([2, 3], [1, 2, 3, 4, 5, 2e-4]) // |e| = 0: allowance is abs alone
    const r = compareTensors(a, e, tol)
    expect(r).toMatchObject({ ok: false, shapeOk: true, worstIndex: 5, failures: 1 })
    expect(r.maxAbsErr).toBeCloseTo(2e-4, 9)
    expect(r.message).toMatch(/1 of 6 .*\[1, 2\]/)
  })

  it('ranks the worst element by allowance used, not by absolute error', () => {
    const e = float32([3], [1000, 0, 1])
    const a = float32([3], [1000.5, 0.01, 1])
    const r = compareTensors(a, e, tol)
    expect(r.maxAbsErr).toBeCloseTo(0.5, 3) // element 0, within its allowance of 1.0001
    expect(r.worstIndex).toBe(1) // 0.01 against 1e-4
    expect(r.failures).toBe(1)
  })

  it('uses the relative term: a 0.5 % error fails at rel 1e-3 and passes at rel 1e-2', () => {
    const e = float32([1], [10])
    const a = float32([1], [10.05])
    expect(compareTensors(a, e, tol).ok).toBe(false)
    expect(compareTensors(a, e, { abs: 0, rel: 1e-2 }).ok).toBe(true)
  })

  it('rejects different shapes even with the same number of elements', () => {
    const r = compareTensors(float32([2, 3], [1, 2, 3, 4, 5, 6]), float32([3, 2], [1, 2, 3, 4, 5, 6]), tol)
    expect(r).toMatchObject({ ok: false, shapeOk: false, worstIndex: -1 })
    expect(r.message).toMatch(/shape mismatch/)
    expect(compareTensors(float32([6], [1, 2, 3, 4, 5, 6]), float32([1, 6], [1, 2, 3, 4, 5, 6]), tol).ok).toBe(false)
  })

  it('fails NaN against a number, passes NaN against NaN and equal infinities', () => {
    const r = compareTensors(float32([2], [NaN, 1]), float32([2], [0, 1]), tol)
    expect(r.ok).toBe(false)
    expect(r.worstIndex).toBe(0)
    expect(Number.isNaN(r.maxAbsErr)).toBe(true)
    expect(compareTensors(float32([1], [0]), float32([1], [NaN]), tol).ok).toBe(false)
    expect(compareTensors(float32([2], [NaN, Infinity]), float32([2], [NaN, Infinity]), tol).ok).toBe(true)
    expect(compareTensors(float32([1], [-Infinity]), float32([1], [Infinity]), tol).ok).toBe(false)
  })

  it('compares across dtypes by value and handles empty tensors', () => {
    expect(compareTensors(float32([3], [1, 2, 3]), int64([3], [1, 2, 3]), { abs: 0, rel: 0 }).ok).toBe(true)
    expect(compareTensors(float32([0, 4], []), float32([0, 4], []), tol)).toMatchObject({ ok: true, worstIndex: -1 })
  })

  it('is not vacuous: zero tolerance rejects any float32 rounding difference', () => {
    const e = float32([1], [0.1])
    const a = float32([1], [Math.fround(0.1) + 2 ** -27])
    expect(compareTensors(a, e, { abs: 0, rel: 0 }).ok).toBe(false)
    expect(compareTensors(e, e, { abs: 0, rel: 0 }).ok).toBe(true)
  })
})
