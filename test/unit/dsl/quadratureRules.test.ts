import { describe, expect, it } from 'vitest'
import { legendreGauss, quadrature, type Quadrature } from '../../../src/dsl/quadratureRules.js'

const q = (rule: Parameters<typeof quadrature>[0], n: number): Quadrature => {
  const r = quadrature(rule, n)
  if (typeof r === 'string') throw new Error(r)
  return r
}
const close = (a: ArrayLike<number>, b: readonly number[], tol = 1e-7): void => {
  expect(a.length).toBe(b.length)
  for (let i = 0; i < b.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(tol)
}

describe('quadrature rules (Captum Fixture M and §3.8)', () => {
  it('riemann rules for n = 2, 3', () => {
    close(q('riemann_left', 2).weights, [0.5, 0.5])
    close(q('riemann_trapezoid', 2).weights, [0.25, 0.25])
    close(q('riemann_left', 3).alphas, [0, 1 / 3, 2 / 3])
    close(q('riemann_right', 3).alphas, [1 / 3, 2 / 3, 1])
    close(q('riemann_middle', 3).alphas, [1 / 6, 0.5, 5 / 6])
    close(q('riemann_trapezoid', 3).alphas, [0, 0.5, 1])
  })
  it('keeps the trapezoid quirk: weights sum to (n−1)/n', () => {
    const t4 = q('riemann_trapezoid', 4)
    close(t4.weights, [0.125, 0.25, 0.25, 0.125])
    close(t4.alphas, [0, 1 / 3, 2 / 3, 1])
    expect(q('riemann_trapezoid', 50).weights.reduce((a, b) => a + b, 0)).toBeCloseTo(0.98, 12)
  })
  it('riemann nodes are float32 linspace values, as torch makes them', () => {
    expect(q('riemann_middle', 3).alphas[0]).toBe(Math.fround(1 / 6))
  })
  it('Gauss–Legendre matches numpy leggauss (n = 2..5)', () => {
    close(q('gausslegendre', 2).alphas, [0.2113248654, 0.7886751346], 1e-9)
    close(q('gausslegendre', 3).weights, [0.2777777778, 0.4444444444, 0.2777777778], 1e-9)
    close(q('gausslegendre', 4).alphas, [0.0694318442, 0.3300094782, 0.6699905218, 0.9305681558], 1e-9)
    close(q('gausslegendre', 5).weights, [0.1184634425, 0.2393143352, 0.2844444444, 0.2393143352, 0.1184634425], 1e-9)
  })
  it('Gauss–Legendre integrates polynomials of degree 2n−1 exactly, for large n too', () => {
    for (const n of [1, 7, 50, 300]) {
      const { x, w } = legendreGauss(n)
      expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(2, 10)
      const deg = Math.min(2 * n - 1, 9)
      const integral = x.reduce((a, xi, i) => a + w[i]! * Math.pow(xi, deg - (deg % 2)), 0)
      expect(integral).toBeCloseTo(2 / (deg - (deg % 2) + 1), 9)
    }
  })
  it('rejects too few steps with a message', () => {
    expect(quadrature('riemann_left', 1)).toMatch(/nSteps ≥ 2/)
    expect(quadrature('gausslegendre', 0)).toMatch(/positive integer/)
  })
})
