// The axioms IG claims (Sundararajan et al. 2017), checked on random small MLPs with tfjs-cpu.
// Every property has a negative control that must fail it.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../src/backends/tfjs/index.js'
import { attribute, type CallOptions, float32, keyOf, uniforms, inputXGradient, integratedGradients, pipeline, saliency, stage, type AttributionResult, type Pipeline } from '../../src/index.js'
import { inputArb, mlpArb, mlpFn, type MlpSpec } from '../helpers/randomMlp.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const RUNS = { seed: 1123, numRuns: 25 }

const run = async (m: Pipeline, f: (x: tf.Tensor) => tf.Tensor, x: number[], shape: [number, number], opts: CallOptions<tf.Tensor> = {}): Promise<AttributionResult> => {
  const r = await attribute(m, fromTfjs(f), float32(shape, x), opts)()
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`)
  return r.right
}
const arr = (r: AttributionResult, i = 0): number[] => Array.from(r.attributions[i]!.data as Float32Array)
const maxAbs = (xs: ArrayLike<number>): number => Array.from(xs).reduce((a, v) => Math.max(a, Math.abs(v)), 0)

/** Completeness: |δ| must shrink as nSteps grows and end small. */
const completenessHolds = async (method: (n: number) => Pipeline, s: MlpSpec, x: number[], b: number[]): Promise<boolean> => {
  const shape: [number, number] = [2, s.nIn]
  const opts = { target: 0, baselines: float32(shape, b) }
  const coarse = await run(method(4), mlpFn(s), x, shape, opts)
  const fine = await run(method(128), mlpFn(s), x, shape, opts)
  const scale = 1 + maxAbs(arr(fine))
  return maxAbs(fine.delta!.data as Float32Array) <= Math.max(2e-3 * scale, maxAbs(coarse.delta!.data as Float32Array) + 1e-5)
    && maxAbs(fine.delta!.data as Float32Array) <= 2e-3 * scale
}

describe('IntegratedGradients axioms on random MLPs (tfjs-cpu)', () => {
  it('completeness: Σ attributions → F(x) − F(x′) as nSteps grows', async () => {
    await fc.assert(
      fc.asyncProperty(mlpArb('tanh').chain((s) => fc.tuple(fc.constant(s), inputArb(s.nIn), inputArb(s.nIn))), async ([s, x, b]) => {
        expect(await completenessHolds((n) => integratedGradients({ nSteps: n, returnConvergenceDelta: true }), s, x, b)).toBe(true)
      }),
      RUNS,
    )
  })

  it('negative control: Input×Gradient (a local method) fails completeness on tanh MLPs', async () => {
    const local = (): Pipeline => pipeline('InputXGradientWithDelta', stage.grad(), stage.multiplyByInputs(), stage.completenessDelta())
    // Non-degenerate random nets (fast-check's small-value bias would hand us zero weights here).
    const u = (seed: number, n: number): number[] => Array.from(uniforms(keyOf(seed), n), (v) => 3 * v - 1.5)
    let failures = 0
    for (let i = 0; i < 10; i++) {
      const s: MlpSpec = { nIn: 3, nHidden: 4, nOut: 1, w1: u(10 * i, 12), b1: u(10 * i + 1, 4), w2: u(10 * i + 2, 4), b2: u(10 * i + 3, 1), activation: 'tanh' }
      if (!(await completenessHolds(() => local(), s, u(10 * i + 4, 6).map((v) => 2 * v), new Array(6).fill(0)))) failures++
    }
    expect(failures).toBeGreaterThan(7)
  })

  it('sensitivity/dummy: a feature the model ignores gets exactly 0; a used feature does not', async () => {
    await fc.assert(
      fc.asyncProperty(mlpArb('tanh').chain((s) => fc.tuple(fc.constant(s), inputArb(s.nIn), fc.integer({ min: 0, max: s.nIn - 1 }))), async ([s, x, j]) => {
        const w1 = [...s.w1]
        for (let h = 0; h < s.nHidden; h++) w1[j * s.nHidden + h] = 0
        const dummy = { ...s, w1 }
        for (const m of [integratedGradients({ nSteps: 16 }), saliency(), inputXGradient()]) {
          const a = arr(await run(m, mlpFn(dummy), x, [2, s.nIn], { target: 0 }))
          expect(Math.abs(a[j]!)).toBe(0)
          expect(Math.abs(a[s.nIn + j]!)).toBe(0)
        }
      }),
      RUNS,
    )
    // negative control: with a non-zero weight on that feature, Saliency there is non-zero
    const s: MlpSpec = { nIn: 2, nHidden: 2, nOut: 1, w1: [1, 0.5, 0.3, -0.2], b1: [0, 0], w2: [1, 1], b2: [0], activation: 'tanh' }
    expect(arr(await run(saliency(), mlpFn(s), [0.1, 0.2], [1, 2], { target: 0 }))[0]).not.toBe(0)
  })

  it('implementation invariance: a ReLU net with hidden units permuted and rescaled (same function) gets the same IG', async () => {
    await fc.assert(
      fc.asyncProperty(
        mlpArb('relu').chain((s) => fc.tuple(fc.constant(s), inputArb(s.nIn), fc.double({ min: 0.2, max: 5, noNaN: true }))),
        async ([s, x, c]) => {
          // relu(c·h) / c = relu(h) for c > 0; reversing the hidden order permutes units.
          const perm = Array.from({ length: s.nHidden }, (_, h) => s.nHidden - 1 - h)
          const w1 = s.w1.map((_, k) => c * s.w1[Math.floor(k / s.nHidden) * s.nHidden + perm[k % s.nHidden]!]!)
          const b1 = perm.map((p) => c * s.b1[p]!)
          const w2 = s.w2.map((_, k) => s.w2[perm[Math.floor(k / s.nOut)]! * s.nOut + (k % s.nOut)]! / c)
          const twin: MlpSpec = { ...s, w1, b1, w2 }
          const a = arr(await run(integratedGradients({ nSteps: 32 }), mlpFn(s), x, [2, s.nIn], { target: 0 }))
          const b = arr(await run(integratedGradients({ nSteps: 32 }), mlpFn(twin), x, [2, s.nIn], { target: 0 }))
          a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(v))))
        },
      ),
      RUNS,
    )
  })

  it('linearity: IG(αf + βg) = α IG(f) + β IG(g); a non-linear combination breaks it', async () => {
    await fc.assert(
      fc.asyncProperty(
        mlpArb('tanh').chain((s) => fc.tuple(fc.constant(s), mlpArb('sigmoid').filter((g) => g.nIn === s.nIn), inputArb(s.nIn), fc.double({ min: -2, max: 2, noNaN: true }), fc.double({ min: -2, max: 2, noNaN: true }))),
        async ([f, g, x, alpha, beta]) => {
          const pick = (h: (x: tf.Tensor) => tf.Tensor) => (t: tf.Tensor): tf.Tensor => tf.tidy(() => tf.slice(h(t), [0, 0], [-1, 1]))
          const combo = (t: tf.Tensor): tf.Tensor => tf.tidy(() => tf.add(tf.mul(pick(mlpFn(f))(t), alpha), tf.mul(pick(mlpFn(g))(t), beta)))
          const m = integratedGradients({ nSteps: 16 })
          const af = arr(await run(m, pick(mlpFn(f)), x, [2, f.nIn], { target: 0 }))
          const ag = arr(await run(m, pick(mlpFn(g)), x, [2, f.nIn], { target: 0 }))
          const ac = arr(await run(m, combo, x, [2, f.nIn], { target: 0 }))
          ac.forEach((v, i) => expect(Math.abs(v - (alpha * af[i]! + beta * ag[i]!))).toBeLessThan(1e-4 * (1 + Math.abs(v))))
        },
      ),
      { seed: 77, numRuns: 15 },
    )
    // negative control: the product of two models is not the sum of their attributions
    const f: MlpSpec = { nIn: 2, nHidden: 2, nOut: 1, w1: [1, 0.5, 0.3, -0.2], b1: [0.1, 0], w2: [1, 1], b2: [0], activation: 'tanh' }
    const prod = (t: tf.Tensor): tf.Tensor => tf.tidy(() => tf.mul(mlpFn(f)(t), mlpFn(f)(t)))
    const m = integratedGradients({ nSteps: 16 })
    const a1 = arr(await run(m, mlpFn(f), [1, 2], [1, 2], { target: 0 }))
    const a2 = arr(await run(m, prod, [1, 2], [1, 2], { target: 0 }))
    expect(Math.abs(a2[0]! - 2 * a1[0]!)).toBeGreaterThan(1e-3)
  })

  it('chunk-size invariance: any internalBatchSize or memory budget gives the same attributions and delta', async () => {
    await fc.assert(
      fc.asyncProperty(
        mlpArb('tanh').chain((s) => fc.tuple(fc.constant(s), inputArb(s.nIn, 3), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 2, max: 30 }))),
        async ([s, x, ibs, nSteps]) => {
          const m = integratedGradients({ nSteps, method: 'riemann_trapezoid', returnConvergenceDelta: true })
          const whole = await run(m, mlpFn(s), x, [3, s.nIn], { target: 0 })
          const chunked = await run(m, mlpFn(s), x, [3, s.nIn], { target: 0, internalBatchSize: ibs })
          const tiny = await run(m, mlpFn(s), x, [3, s.nIn], { target: 0, memoryBudgetBytes: 1 })
          expect(tiny.meta.chunks).toBe(nSteps)
          for (const other of [chunked, tiny]) {
            arr(whole).forEach((v, i) => expect(Math.abs(v - arr(other)[i]!)).toBeLessThan(1e-5 * (1 + Math.abs(v))))
            Array.from(whole.delta!.data as Float32Array).forEach((v, i) => expect(Math.abs(v - Number(other.delta!.data[i]))).toBeLessThan(1e-4 * (1 + Math.abs(v))))
          }
        },
      ),
      RUNS,
    )
  })
})
