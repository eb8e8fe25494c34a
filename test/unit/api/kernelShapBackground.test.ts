// KernelShap with a baseline distribution (SHAP's KernelExplainer semantics, captum#1789) against
// an independent oracle: exact Shapley values of v(S) = mean_b F(x on S, x′_b elsewhere).
import { describe, expect, it } from 'vitest'
import { fromFunction } from '../../../src/backends/host/index.js'
import { ClarusError, KernelShap, float32, type HostTensor } from '../../../src/index.js'

// A non-additive model of 4 features: F(x) = x0·x1 + tanh(x2 − x3) + x3².
const f = (r: readonly number[]): number => r[0]! * r[1]! + Math.tanh(r[2]! - r[3]!) + r[3]! * r[3]!
const model = fromFunction(([x]: readonly HostTensor[]) => {
  const n = x!.shape[0]!
  return float32([n, 1], Array.from({ length: n }, (_, i) => f(Array.from(x!.data.subarray(4 * i, 4 * i + 4) as Float32Array))))
})

/** Exact Shapley values of the background game by enumeration (float64). */
const oracle = (x: readonly number[], background: readonly (readonly number[])[]): number[] => {
  const M = x.length
  const v = (mask: number): number =>
    background.reduce((a, b) => a + f(x.map((xi, j) => ((mask >> j) & 1 ? xi : b[j]!))), 0) / background.length
  const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1))
  return x.map((_, j) => {
    let phi = 0
    for (let mask = 0; mask < 1 << M; mask++) {
      if ((mask >> j) & 1) continue
      const s = mask.toString(2).split('').filter((c) => c === '1').length
      phi += ((fact(s) * fact(M - s - 1)) / fact(M)) * (v(mask | (1 << j)) - v(mask))
    }
    return phi
  })
}

const x = [0.5, -1.2, 0.8, 0.3]
const background = [[0, 0, 0, 0], [1, 1, -1, 0.5], [-0.5, 2, 0.3, -1], [0.2, -0.7, 1.5, 0.9], [1, 0, 0, 1]]
const bg = float32([5, 4], background.flat())

describe('KernelShap with a baseline distribution', () => {
  it('exact mode equals the Shapley values of the background game, and differs from one mean baseline', async () => {
    const phi = await new KernelShap(model).attribute(float32([1, 4], x), { baselines: bg, baselineDistribution: true, exact: true, target: 0 })
    const want = oracle(x, background)
    Array.from(phi.data as Float32Array).forEach((v, j) => expect(Math.abs(v - want[j]!)).toBeLessThan(1e-4))
    // efficiency: Σφ = F(x) − E_b F(x′_b)
    const total = Array.from(phi.data as Float32Array).reduce((a, b) => a + b, 0)
    expect(total).toBeCloseTo(f(x) - background.reduce((a, b) => a + f(b), 0) / 5, 4)
    // Captum's semantics with the mean background row as one baseline is a different game
    const mean = background[0]!.map((_, j) => background.reduce((a, b) => a + b[j]!, 0) / 5)
    const single = await new KernelShap(model).attribute(float32([1, 4], x), { baselines: float32([1, 4], mean), exact: true, target: 0 })
    expect(Array.from(single.data as Float32Array).some((v, j) => Math.abs(v - want[j]!) > 1e-2)).toBe(true)
  })

  it('sampling converges to the exact values, for any packing', async () => {
    const want = oracle(x, background)
    const err = async (nSamples: number, perturbationsPerEval?: number): Promise<number> => {
      const phi = await new KernelShap(model).attribute(float32([1, 4], x), {
        baselines: bg, baselineDistribution: true, nSamples, target: 0, seed: 3, ...(perturbationsPerEval ? { perturbationsPerEval } : {}),
      })
      return Math.max(...Array.from(phi.data as Float32Array, (v, j) => Math.abs(v - want[j]!)))
    }
    const coarse = await err(20)
    const fine = await err(2000)
    expect(fine).toBeLessThan(0.05)
    expect(fine).toBeLessThan(coarse)
    expect(await err(200, 7)).toBe(await err(200))
  })

  it('a distribution of one row is Captum\'s single-baseline KernelShap', async () => {
    const b = [0.1, 0.2, -0.3, 0.4]
    const a = await new KernelShap(model).attribute(float32([1, 4], x), { baselines: float32([1, 4], b), baselineDistribution: true, nSamples: 64, seed: 1, target: 0 })
    const c = await new KernelShap(model).attribute(float32([1, 4], x), { baselines: float32([1, 4], b), nSamples: 64, seed: 1, target: 0 })
    expect(Array.from(a.data as Float32Array)).toEqual(Array.from(c.data as Float32Array))
  })

  it('needs a distribution shaped like the examples', async () => {
    const e = await new KernelShap(model).attribute(float32([1, 4], x), { baselines: float32([5, 3], new Array(15).fill(0)), baselineDistribution: true, target: 0 }).catch((u: unknown) => u)
    expect(e).toBeInstanceOf(ClarusError)
    expect((e as ClarusError).error._tag).toBe('BadBaseline')
    const none = await new KernelShap(model).attribute(float32([1, 4], x), { baselineDistribution: true, target: 0 }).catch((u: unknown) => u)
    expect((none as ClarusError).error.message).toMatch(/distribution is required/)
  })
})
