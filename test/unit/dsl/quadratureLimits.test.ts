// Issue 8, defect 2: large nSteps. Specs are bounded before anything is allocated, the
// Gauss–Legendre rule is computed accurately by an O(n) per node method, and a run builds its rule
// once however many chunks it splits the steps into.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { MAX_STEPS, quadratureBuilds } from '../../../src/dsl/quadratureRules.js'
import { ClarusError, IntegratedGradients, attribute, decodePipeline, float32, integratedGradients, legendreGauss, pipeline, quadrature, stage } from '../../../src/index.js'
import { basicMultiLayer } from '../../helpers/basicModels.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

// An independent reference: P_n and P_{n−1} by the recurrence with the division done each step,
// roots bracketed on a fine grid in θ = arccos x and then bisected to the last bit, and the
// weights from 2(1 − x²) / (n P_{n−1}(x))² (the code under test uses P_n′ instead).
const legendrePair = (n: number, x: number): [number, number] => {
  let prev = 1
  let cur = x
  for (let k = 2; k <= n; k++) [prev, cur] = [cur, ((2 * k - 1) * x * cur - (k - 1) * prev) / k]
  return n === 0 ? [1, 0] : [cur, prev]
}
const slowGaussLegendre = (n: number): { x: number[]; w: number[] } => {
  const pn = (x: number): number => legendrePair(n, x)[0]
  const grid = 40 * n + 40
  const roots: number[] = []
  for (let g = 0; g < grid; g++) {
    let lo = Math.cos((Math.PI * (g + 1)) / grid)
    let hi = Math.cos((Math.PI * g) / grid)
    if (Math.sign(pn(lo)) === Math.sign(pn(hi))) continue
    for (let it = 0; it < 200 && hi - lo > 0; it++) {
      const mid = 0.5 * (lo + hi)
      if (mid === lo || mid === hi) break
      if (Math.sign(pn(mid)) === Math.sign(pn(lo))) lo = mid
      else hi = mid
    }
    roots.push(Math.abs(pn(lo)) < Math.abs(pn(hi)) ? lo : hi)
  }
  roots.sort((a, b) => a - b)
  return { x: roots, w: roots.map((r) => (2 * (1 - r * r)) / (n * legendrePair(n, r)[1]) ** 2) }
}

describe('Gauss–Legendre nodes and weights', () => {
  it('agree with a slow bisection reference to 1e-13 for n = 1..50', () => {
    for (let n = 1; n <= 50; n++) {
      const ref = slowGaussLegendre(n)
      const got = legendreGauss(n)
      expect(ref.x.length, `n = ${n}`).toBe(n)
      for (let i = 0; i < n; i++) {
        expect(Math.abs(got.x[i]! - ref.x[i]!), `x n=${n} i=${i}`).toBeLessThan(1e-13)
        expect(Math.abs(got.w[i]! - ref.w[i]!), `w n=${n} i=${i}`).toBeLessThan(1e-13)
      }
    }
  })
  it('match numpy leggauss to float64 precision (values printed by numpy 2.4)', () => {
    // numpy.polynomial.legendre.leggauss(7)
    const x7 = [-0.9491079123427586, -0.7415311855993945, -0.4058451513773972, 0, 0.4058451513773972, 0.7415311855993945, 0.9491079123427586]
    const w7 = [0.12948496616886973, 0.27970539148927687, 0.3818300505051187, 0.4179591836734693, 0.3818300505051187, 0.27970539148927687, 0.12948496616886973]
    const got = legendreGauss(7)
    for (let i = 0; i < 7; i++) {
      expect(Math.abs(got.x[i]! - x7[i]!)).toBeLessThan(1e-15)
      expect(Math.abs(got.w[i]! - w7[i]!)).toBeLessThan(1e-15)
    }
  })
  it('are symmetric, ascending, inside (0, 1), and the weights sum to 1 (as Captum’s do), up to n = 10000', () => {
    for (const n of [1, 2, 3, 64, 999, 2990, MAX_STEPS]) {
      const q = quadrature('gausslegendre', n)
      if (typeof q === 'string') throw new Error(q)
      let sum = 0
      for (let i = 0; i < n; i++) {
        sum += q.weights[i]!
        expect(q.alphas[i]! + q.alphas[n - 1 - i]!).toBeCloseTo(1, 14)
        expect(q.weights[i]).toBe(q.weights[n - 1 - i])
        if (i > 0) expect(q.alphas[i]!).toBeGreaterThan(q.alphas[i - 1]!)
      }
      expect(q.alphas[0]!).toBeGreaterThan(0)
      expect(Math.abs(sum - 1), `n = ${n}`).toBeLessThan(1e-13)
      // ∫₀¹ α³ dα = 1/4 exactly for n ≥ 2; a wrong node set would miss it
      if (n >= 2) expect(Math.abs(Array.from(q.alphas).reduce((a, al, i) => a + q.weights[i]! * al ** 3, 0) - 0.25)).toBeLessThan(1e-12)
    }
  })
  it('hands out copies: writing to a returned rule does not change the next one', () => {
    const first = quadrature('gausslegendre', 5)
    if (typeof first === 'string') throw new Error(first)
    first.alphas[0] = 42
    first.weights.fill(0)
    const again = quadrature('gausslegendre', 5)
    if (typeof again === 'string') throw new Error(again)
    expect(again.alphas[0]).toBeCloseTo(0.04691007703066802, 15)
    expect(again.weights[2]).toBeCloseTo(0.28444444444444444, 15)
  })
})

describe('nSteps is bounded by MAX_STEPS', () => {
  it('decoding a spec with nSteps 2147483648 is a typed InvalidSpec naming the field, with nothing allocated', () => {
    const before = process.memoryUsage().arrayBuffers
    for (const method of ['riemann_trapezoid', 'gausslegendre'] as const) {
      const good = pipeline('ig', stage.interpolate({ nSteps: 50, method }), stage.grad(), stage.quadrature(), stage.scaleByDelta())
      const bad = JSON.parse(JSON.stringify(good).replace('"nSteps":50', '"nSteps":2147483648')) as unknown
      const r = decodePipeline(bad)
      if (E.isRight(r)) throw new Error('expected an InvalidSpec')
      if (r.left._tag !== 'InvalidSpec') throw new Error(`expected an InvalidSpec, got ${r.left._tag}`)
      expect(r.left.issues).toHaveLength(1)
      expect(r.left.issues[0]!.path).toEqual(['stages', '0', 'nSteps'])
      expect(r.left.message).toContain('MAX_STEPS')
    }
    // a Float64Array of 2³¹ entries would be 16 GiB; allow the allocator some slack
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024)
  })
  it('accepts MAX_STEPS and rejects one more, through the builder and the run', async () => {
    expect(E.isRight(decodePipeline(pipeline('ig', stage.interpolate({ nSteps: MAX_STEPS, method: 'riemann_middle' }), stage.grad(), stage.quadrature())))).toBe(true)
    // the builders throw a ClarusError carrying the typed error (their documented behaviour)
    let caught: unknown
    try {
      integratedGradients({ nSteps: MAX_STEPS + 1, method: 'gausslegendre' })
    } catch (e) {
      caught = e
    }
    if (!(caught instanceof ClarusError)) throw new Error('expected a ClarusError')
    expect(caught.error._tag).toBe('InvalidSpec')
    expect(caught.error.path).toEqual(['stages', '0', 'nSteps'])
    // the Captum-style facade reports the same typed error
    const ig = new IntegratedGradients(fromTfjs(basicMultiLayer))
    await expect(ig.attribute(float32([1, 3], [1, 2, 3]), { target: 0, nSteps: 2147483648 })).rejects.toMatchObject({ error: { _tag: 'InvalidSpec' } })
  })
  it('quadrature() refuses more than MAX_STEPS with a message instead of building it', () => {
    expect(quadrature('riemann_left', MAX_STEPS + 1)).toMatch(/MAX_STEPS/)
    expect(quadrature('gausslegendre', 1e7)).toMatch(/MAX_STEPS/)
  })
})

describe('a run builds its quadrature rule once', () => {
  it('IG with 2987 Gauss–Legendre steps in 299 chunks builds the rule once and stays complete', async () => {
    const model = fromTfjs(basicMultiLayer)
    const x = float32([1, 3], [2, 5, 3])
    const before = quadratureBuilds()
    const r = await attribute(integratedGradients({ nSteps: 2987, method: 'gausslegendre', returnConvergenceDelta: true }), model, x, { target: 0, internalBatchSize: 10 })()
    if (E.isLeft(r)) throw new Error(r.left.message)
    expect(r.right.meta.chunks).toBeGreaterThanOrEqual(299)
    expect(quadratureBuilds() - before).toBe(1)
    expect(Math.abs(Number(r.right.delta?.data[0]))).toBeLessThan(1e-3)
    // a second call with the same rule reuses it
    const again = await attribute(integratedGradients({ nSteps: 2987, method: 'gausslegendre' }), model, x, { target: 0, internalBatchSize: 1000 })()
    expect(E.isRight(again)).toBe(true)
    expect(quadratureBuilds() - before).toBe(1)
  })
})
