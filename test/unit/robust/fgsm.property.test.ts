// FGSM properties on random linear classifiers, against a gradient computed here by hand
// (∂CE/∂x = W (softmax(z) − onehot(y)) for logits z = xW + b): every moved element moves by
// exactly ±ε in the gradient's sign direction (flipped when targeted), elements with |g| ≤ 1e-6
// stay, bounds clamp, the −logit loss never raises the true logit, and no tfjs tensor leaks.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { fgsm, float32, type AttackResult, type FgsmOptions, type HostTensor, type Model } from '../../../src/index.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

interface Linear {
  readonly nIn: number
  readonly k: number
  readonly w: number[] // [nIn, k]
  readonly b: number[]
}

const vals = (n: number, s: number): fc.Arbitrary<number[]> => fc.array(fc.double({ min: -s, max: s, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n })
const linearArb: fc.Arbitrary<Linear> = fc
  .record({ nIn: fc.integer({ min: 2, max: 6 }), k: fc.integer({ min: 2, max: 4 }) })
  .chain(({ nIn, k }) => fc.record({ nIn: fc.constant(nIn), k: fc.constant(k), w: vals(nIn * k, 2), b: vals(k, 0.5) }))

const modelOf = (l: Linear): Model<tf.Tensor> =>
  fromTfjs((x: tf.Tensor) => tf.tidy(() => tf.add(tf.matMul(x as tf.Tensor2D, tf.tensor2d(l.w, [l.nIn, l.k])), tf.tensor1d(l.b))))

/** Logits and the CE input gradient of one row, in float64, written out from the formula. */
const oracle = (l: Linear, x: readonly number[], y: number): { z: number[]; g: number[] } => {
  const z = Array.from({ length: l.k }, (_, j) => l.b[j]! + x.reduce((a, v, i) => a + v * l.w[i * l.k + j]!, 0))
  const m = Math.max(...z)
  const e = z.map((v) => Math.exp(v - m))
  const s = e.reduce((a, v) => a + v, 0)
  const g = Array.from({ length: l.nIn }, (_, i) => e.reduce((a, v, j) => a + (v / s - (j === y ? 1 : 0)) * l.w[i * l.k + j]!, 0))
  return { z, g }
}

const run = async (model: Model<tf.Tensor>, x: HostTensor, o: FgsmOptions): Promise<AttackResult> => {
  const r = await fgsm(model, x, o)()
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`)
  return r.right
}

const caseArb = linearArb.chain((l) =>
  fc.record({
    l: fc.constant(l),
    x: vals(2 * l.nIn, 2),
    y: fc.array(fc.integer({ min: 0, max: l.k - 1 }), { minLength: 2, maxLength: 2 }),
    eps: fc.double({ min: 0.001, max: 0.5, noNaN: true }),
    targeted: fc.boolean(),
  }),
)

/** Checks each element of the step against the oracle's gradient; returns the first violation. */
const violation = (c: { l: Linear; x: number[]; y: number[]; eps: number }, perturbed: Float32Array, sign: 1 | -1): string | undefined => {
  const x32 = Float32Array.from(c.x)
  for (let r = 0; r < 2; r++) {
    const { g } = oracle(c.l, Array.from(x32.subarray(r * c.l.nIn, (r + 1) * c.l.nIn)), c.y[r]!)
    for (let i = 0; i < c.l.nIn; i++) {
      const at = r * c.l.nIn + i
      const d = perturbed[at]! - x32[at]!
      // Below 2e-6 the float32 gradient may sit on either side of the 1e-6 threshold (or of 0):
      // the threshold itself is checked with exact zeros in 'leaves elements with |g| ≤ 1e-6'.
      if (Math.abs(g[i]!) < 2e-6) continue
      const tol = 4e-7 * Math.max(1, Math.abs(x32[at]!))
      if (Math.abs(d - sign * Math.sign(g[i]!) * c.eps) > tol) return `element ${at} moved by ${d}, expected ${sign * Math.sign(g[i]!) * c.eps}`
    }
  }
  return undefined
}

describe('fgsm', () => {
  it('moves every element with |g| > 1e-6 by exactly ε along ±sign(g) (L∞ = ε) and leaves the rest', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const r = await run(modelOf(c.l), float32([2, c.l.nIn], c.x), { epsilon: c.eps, target: c.y, targeted: c.targeted })
        const p = r.perturbed[0]!.data as Float32Array
        expect(violation(c, p, c.targeted ? -1 : 1)).toBeUndefined()
        // Negative control: the same step checked with the opposite sign must be flagged wherever something moved.
        const moved = p.some((v, i) => v !== Math.fround(c.x[i]!))
        if (moved) expect(violation(c, p, c.targeted ? 1 : -1)).toBeDefined()
      }),
      { seed: 16, numRuns: 60 },
    )
  })

  it('clamps every element into [lowerBound, upperBound], moved or not', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.double({ min: -1, max: 0, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), async (c, lo, hi) => {
        const r = await run(modelOf(c.l), float32([2, c.l.nIn], c.x), { epsilon: c.eps, target: c.y, lowerBound: lo, upperBound: hi })
        for (const v of r.perturbed[0]!.data as Float32Array) {
          expect(v).toBeGreaterThanOrEqual(Math.fround(lo))
          expect(v).toBeLessThanOrEqual(Math.fround(hi))
        }
      }),
      { seed: 17, numRuns: 40 },
    )
  })

  it('with the −logit loss never raises the true logit of a linear model (untargeted), and targeted never lowers it (control)', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const model = modelOf(c.l)
        const x = float32([2, c.l.nIn], c.x)
        const un = await run(model, x, { epsilon: c.eps, target: c.y, loss: { _tag: 'negOutput' } })
        const tg = await run(model, x, { epsilon: c.eps, target: c.y, loss: { _tag: 'negOutput' }, targeted: true })
        for (let r = 0; r < 2; r++) {
          const before = oracle(c.l, c.x.slice(r * c.l.nIn, (r + 1) * c.l.nIn).map(Math.fround), c.y[r]!).z[c.y[r]!]!
          const after = (res: AttackResult): number => Number(res.perturbedOutput.data[r * c.l.k + c.y[r]!])
          expect(after(un)).toBeLessThanOrEqual(before + 1e-4)
          expect(after(tg)).toBeGreaterThanOrEqual(before - 1e-4)
        }
      }),
      { seed: 18, numRuns: 40 },
    )
  })

  it('raises the cross-entropy of the true labels for a small ε (first order), lowers it when targeted', async () => {
    const l: Linear = { nIn: 3, k: 3, w: [1, -0.5, 0.2, 0.3, 0.8, -1, -0.7, 0.1, 0.6], b: [0.1, -0.2, 0] }
    const ce = (out: HostTensor, y: readonly number[]): number =>
      y.reduce((a, t, r) => {
        const z = Array.from(out.data as Float32Array).slice(r * 3, r * 3 + 3)
        return a - z[t]! + Math.log(z.reduce((s, v) => s + Math.exp(v), 0))
      }, 0)
    const x = float32([2, 3], [0.5, -1, 2, 1.5, 0.2, -0.3])
    const y = [0, 2]
    const model = modelOf(l)
    const base = (await run(model, x, { epsilon: 0, target: y })).perturbedOutput
    const up = (await run(model, x, { epsilon: 0.01, target: y })).perturbedOutput
    const down = (await run(model, x, { epsilon: 0.01, target: y, targeted: true })).perturbedOutput
    expect(ce(up, y)).toBeGreaterThan(ce(base, y))
    expect(ce(down, y)).toBeLessThan(ce(base, y))
  })

  it('moves only where the mask is 1 (mask broadcast from one row)', async () => {
    const l: Linear = { nIn: 4, k: 2, w: [1, -1, 2, 0.5, -0.3, 0.7, 1.1, -2], b: [0, 0] }
    const x = float32([2, 4], [0.1, 0.2, 0.3, 0.4, -0.1, -0.2, -0.3, -0.4])
    const r = await run(modelOf(l), x, { epsilon: 0.1, target: [0, 1], mask: float32([1, 4], [1, 0, 1, 0]) })
    const d = Array.from(r.perturbed[0]!.data as Float32Array, (v, i) => v - (x.data as Float32Array)[i]!)
    for (const i of [1, 3, 5, 7]) expect(d[i]).toBe(0)
    for (const i of [0, 2, 4, 6]) expect(Math.abs(Math.abs(d[i]!) - 0.1)).toBeLessThan(1e-6)
  })

  it('leaves elements with |g| ≤ 1e-6 (Captum\'s zero threshold) and moves those just above it', async () => {
    // Feature 0 has no weight (g = 0), feature 1 a gradient of ~5e-7, feature 2 one of ~5e-6.
    const l: Linear = { nIn: 3, k: 2, w: [0, 0, 1e-6, -1e-6, 1e-5, -1e-5], b: [0, 0] }
    const x = float32([1, 3], [0.3, 0.3, 0.3])
    const r = await run(modelOf(l), x, { epsilon: 0.1, target: 0 })
    const d = Array.from(r.perturbed[0]!.data as Float32Array, (v, i) => v - (x.data as Float32Array)[i]!)
    expect(d[0]).toBe(0)
    expect(d[1]).toBe(0)
    expect(Math.abs(Math.abs(d[2]!) - 0.1)).toBeLessThan(1e-6)
  })

  it('gives the same result whatever the chunk size', async () => {
    const l: Linear = { nIn: 3, k: 2, w: [1, -1, 0.5, 2, -0.3, 0.4], b: [0.1, 0] }
    const x = float32([5, 3], Array.from({ length: 15 }, (_, i) => Math.sin(i)))
    const o = { epsilon: 0.2, target: [0, 1, 0, 1, 1] }
    const whole = await run(modelOf(l), x, o)
    const chunked = await run(modelOf(l), x, { ...o, memoryBudgetBytes: 1 })
    expect(Array.from(chunked.perturbed[0]!.data as Float32Array)).toEqual(Array.from(whole.perturbed[0]!.data as Float32Array))
    expect(Array.from(chunked.perturbedOutput.data as Float32Array)).toEqual(Array.from(whole.perturbedOutput.data as Float32Array))
  })
})
