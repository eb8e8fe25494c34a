// Completeness at a layer (Σ layer attributions → F(x) − F(x′) as the steps grow) for LayerConductance
// and LayerIntegratedGradients on random small tanh MLPs (tfjs-cpu, the hidden layer tapped), and
// LayerConductance's chunk invariance: its reducer carries the step across every chunk boundary.
// Every property has a negative control that must fail it.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../src/backends/tfjs/index.js'
import { conductanceSum } from '../../src/dsl/stages/conductanceSum.js'
import { addTensors, narrowSums, type PartialResult } from '../../src/dsl/partial.js'
import { attribute, float32, keyOf, layerConductance, layerGradientXActivation, layerIntegratedGradients, pipeline, stage, uniforms, type AttributionResult, type CallOptions, type Model, type Pipeline } from '../../src/index.js'
import { inputArb, mlpArb, type MlpSpec } from '../helpers/randomMlp.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const RUNS = { seed: 4711, numRuns: 20 }
type Layer = 'pre' | 'hidden'

/** The MLP with its hidden layer tapped before ('pre') and after ('hidden') the activation. */
const tapped = (s: MlpSpec): Model<tf.Tensor> =>
  fromTfjs({
    layers: ['pre', 'hidden'],
    fn: (tap, x) => {
      const h = tap('pre', tf.add(tf.matMul(x as tf.Tensor2D, tf.tensor2d(s.w1, [s.nIn, s.nHidden])), tf.tensor1d(s.b1)))
      const a = tap('hidden', s.activation === 'tanh' ? tf.tanh(h) : s.activation === 'relu' ? tf.relu(h) : tf.sigmoid(h))
      return tf.add(tf.matMul(a, tf.tensor2d(s.w2, [s.nHidden, s.nOut])), tf.tensor1d(s.b2))
    },
  })

const run = async (m: Pipeline, s: MlpSpec, x: number[], rows: number, opts: CallOptions<tf.Tensor> = {}): Promise<AttributionResult> => {
  const r = await attribute(m, tapped(s), float32([rows, s.nIn], x), { target: 0, ...opts })()
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`)
  return r.right
}
const arr = (r: AttributionResult): number[] => Array.from(r.attributions[0]!.data as Float32Array)
const maxAbs = (xs: ArrayLike<number>): number => Array.from(xs).reduce((a, v) => Math.max(a, Math.abs(v)), 0)
const deltaOf = (r: AttributionResult): number => maxAbs(r.delta!.data as Float32Array)

/**
 * LayerConductance's Riemann–Stieltjes sum converges like 1/n: quadrupling the steps must cut |δ|
 * to about a quarter (≤ 0.35, or down to float32 noise), and 256 steps must leave it small.
 */
const conductanceComplete = async (method: (n: number) => Pipeline, s: MlpSpec, x: number[], b: number[]): Promise<boolean> => {
  const opts = { baselines: float32([2, s.nIn], b) }
  const coarse = await run(method(64), s, x, 2, opts)
  const fine = await run(method(256), s, x, 2, opts)
  const scale = 1 + maxAbs(arr(fine))
  return deltaOf(fine) <= Math.max(0.35 * deltaOf(coarse), 1e-4 * scale) && deltaOf(fine) <= 5e-2 * scale
}

/** LayerIntegratedGradients (Gauss–Legendre) converges fast: 128 steps leave |δ| at float32 noise. */
const ligComplete = async (method: (n: number) => Pipeline, s: MlpSpec, x: number[], b: number[]): Promise<boolean> => {
  const opts = { baselines: float32([2, s.nIn], b) }
  const coarse = await run(method(4), s, x, 2, opts)
  const fine = await run(method(128), s, x, 2, opts)
  const scale = 1 + maxAbs(arr(fine))
  return deltaOf(fine) <= Math.max(2e-3 * scale, deltaOf(coarse) + 1e-5) && deltaOf(fine) <= 2e-3 * scale
}

const cases = mlpArb('tanh').chain((s) => fc.tuple(fc.constant(s), inputArb(s.nIn), inputArb(s.nIn), fc.constantFrom<Layer>('pre', 'hidden')))

/** Non-degenerate random nets (fast-check's small-value bias would hand us zero weights here). */
const u = (seed: number, n: number): number[] => Array.from(uniforms(keyOf(seed), n), (v) => 3 * v - 1.5)
const netOf = (i: number): MlpSpec => ({ nIn: 3, nHidden: 4, nOut: 1, w1: u(10 * i, 12), b1: u(10 * i + 1, 4), w2: u(10 * i + 2, 4), b2: u(10 * i + 3, 1), activation: 'tanh' })

describe('completeness at a layer on random MLPs (tfjs-cpu)', () => {
  it('LayerConductance: Σ layer attributions → F(x) − F(x′) as nSteps grows (default Gauss–Legendre nodes and riemann_trapezoid)', async () => {
    await fc.assert(
      fc.asyncProperty(cases, fc.constantFrom('gausslegendre' as const, 'riemann_trapezoid' as const), async ([s, x, b, layer], method) => {
        expect(await conductanceComplete((n) => layerConductance({ layer, nSteps: n, method, returnConvergenceDelta: true }), s, x, b)).toBe(true)
      }),
      RUNS,
    )
  })

  it('LayerIntegratedGradients: Σ layer attributions → F(x) − F(x′) as nSteps grows', async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ([s, x, b, layer]) => {
        expect(await ligComplete((n) => layerIntegratedGradients({ layer, nSteps: n, returnConvergenceDelta: true }), s, x, b)).toBe(true)
      }),
      RUNS,
    )
  })

  it('negative control: LayerGradientXActivation (a local method, with a delta) fails both checks on tanh MLPs', async () => {
    const local = (): Pipeline => pipeline('LayerGradientXActivationWithDelta', ...layerGradientXActivation({ layer: 'pre' }).stages, stage.completenessDelta())
    let conductanceFailures = 0
    let ligFailures = 0
    for (let i = 0; i < 10; i++) {
      const x = u(10 * i + 4, 6).map((v) => 2 * v)
      const b = new Array<number>(6).fill(0)
      if (!(await conductanceComplete(() => local(), netOf(i), x, b))) conductanceFailures++
      if (!(await ligComplete(() => local(), netOf(i), x, b))) ligFailures++
    }
    expect(conductanceFailures).toBeGreaterThan(7)
    expect(ligFailures).toBeGreaterThan(7)
  })

  it('negative control: too few steps — LayerConductance with 2 steps is far from complete on the same nets', async () => {
    let failures = 0
    for (let i = 0; i < 10; i++) {
      const fine = await run(layerConductance({ layer: 'pre', nSteps: 2, returnConvergenceDelta: true }), netOf(i), u(10 * i + 4, 6).map((v) => 2 * v), 2, { baselines: float32([2, 3], new Float32Array(6)) })
      if (deltaOf(fine) > 5e-2 * (1 + maxAbs(arr(fine)))) failures++
    }
    expect(failures).toBeGreaterThan(5)
  })
})

describe('LayerConductance is chunk-invariant', () => {
  it('any internalBatchSize or memory budget gives the attributions and delta of the unchunked run', async () => {
    await fc.assert(
      fc.asyncProperty(
        mlpArb('tanh').chain((s) => fc.tuple(fc.constant(s), inputArb(s.nIn, 3), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 30 }), fc.constantFrom<Layer>('pre', 'hidden'))),
        async ([s, x, ibs, nSteps, layer]) => {
          const m = layerConductance({ layer, nSteps, method: 'riemann_trapezoid', returnConvergenceDelta: true })
          const whole = await run(m, s, x, 3)
          const chunked = await run(m, s, x, 3, { internalBatchSize: ibs })
          const tiny = await run(m, s, x, 3, { memoryBudgetBytes: 1 })
          // one path point per chunk: every term of the sum straddles a chunk boundary
          expect(whole.meta.chunks).toBe(1)
          expect(tiny.meta.chunks).toBe(nSteps + 1)
          expect(chunked.meta.chunks).toBe(Math.ceil((nSteps + 1) / Math.max(1, Math.floor(ibs / 3))))
          for (const other of [chunked, tiny]) {
            arr(whole).forEach((v, i) => expect(Math.abs(v - arr(other)[i]!)).toBeLessThan(1e-5 * (1 + Math.abs(v))))
            Array.from(whole.delta!.data as Float32Array).forEach((v, i) => expect(Math.abs(v - Number(other.delta!.data[i]))).toBeLessThan(1e-4 * (1 + Math.abs(v))))
          }
        },
      ),
      RUNS,
    )
  })

  // The reducer on its own, on host data: one partial per path point, folded in random bracketings.
  const R = 2
  const D = 3
  /** The partial of one path point: no interior term yet; first = last activation = a_k; last gradient = g_k. */
  const single = (k: number, g: Float32Array, a: Float32Array): PartialResult => ({
    start: k,
    end: k + 1,
    tensors: [
      { dtype: 'float32', shape: [R, D, 1], data: new Float32Array(R * D) },
      { dtype: 'float32', shape: [R, D], data: a },
      { dtype: 'float32', shape: [R, D], data: a },
      { dtype: 'float32', shape: [R, D], data: g },
    ],
    data: { values: 1 },
  })
  /** Folds adjacent partials in the order `merges` picks (a random bracketing). */
  const fold = (parts: readonly PartialResult[], merges: readonly number[], combine: (a: PartialResult, b: PartialResult) => E.Either<unknown, PartialResult>): PartialResult => {
    const ps = [...parts]
    let m = 0
    while (ps.length > 1) {
      const i = merges[m++ % merges.length]! % (ps.length - 1)
      const c = combine(ps[i]!, ps[i + 1]!)
      if (E.isLeft(c)) throw new Error('combine failed')
      ps.splice(i, 2, c.right)
    }
    return ps[0]!
  }
  const f32 = fc.float({ min: -4, max: 4, noNaN: true, noDefaultInfinity: true })
  const steps = fc.integer({ min: 2, max: 9 }).chain((K) =>
    fc.tuple(fc.array(fc.array(f32, { minLength: R * D, maxLength: R * D }), { minLength: K, maxLength: K }), fc.array(fc.array(f32, { minLength: R * D, maxLength: R * D }), { minLength: K, maxLength: K }), fc.array(fc.nat(), { minLength: 1, maxLength: 12 })),
  )
  const sumOf = (p: PartialResult): Float32Array => {
    const s = narrowSums(p.tensors[0]!)
    if (E.isLeft(s)) throw new Error(s.left.message)
    return s.right.data as Float32Array
  }
  /** Σ_{k<K−1} g_k (a_{k+1} − a_k) per element, each term rounded to float32 as the stage rounds it. */
  const expected = (gs: readonly number[][], as: readonly number[][]): number[] =>
    Array.from({ length: R * D }, (_, e) => gs.slice(0, -1).reduce((acc, g, k) => acc + Math.fround(Math.fround(g[e]!) * Math.fround(Math.fround(as[k + 1]![e]!) - Math.fround(as[k]![e]!))), 0))

  it('combine adds the term across each boundary: any bracketing gives the same bits and the whole sum', () => {
    fc.assert(
      fc.property(steps, fc.array(fc.nat(), { minLength: 1, maxLength: 12 }), ([gs, as, merges], other) => {
        const parts = gs.map((g, k) => single(k, Float32Array.from(g), Float32Array.from(as[k]!)))
        const a = fold(parts, merges, (x, y) => conductanceSum.combine({}, x, y))
        const b = fold(parts, other, (x, y) => conductanceSum.combine({}, x, y))
        expect([a.start, a.end]).toEqual([0, gs.length])
        expect(Array.from(sumOf(a))).toEqual(Array.from(sumOf(b)))
        expect(Array.from(a.tensors[0]!.data as Float64Array)).toEqual(Array.from(b.tensors[0]!.data as Float64Array))
        const want = expected(gs, as)
        Array.from(sumOf(a)).forEach((v, e) => expect(Math.abs(v - want[e]!)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(want[e]!))))
      }),
      { seed: 99, numRuns: 200 },
    )
  })

  it('negative control: a combine that only adds the chunks\' sums (no boundary terms) loses the whole sum', () => {
    // what a plain sum monoid would do: add the sums, keep the first and last step's ends
    const naive = (a: PartialResult, b: PartialResult): E.Either<unknown, PartialResult> =>
      E.map((sums: PartialResult['tensors'][number]): PartialResult => ({ start: a.start, end: b.end, tensors: [sums, a.tensors[1]!, b.tensors[2]!, b.tensors[3]!], data: { values: 1 } }))(addTensors(a.tensors[0]!, b.tensors[0]!))
    const samples = fc.sample(steps, { seed: 99, numRuns: 100 })
    const failures = samples.filter(([gs, as, merges]) => {
      const parts = gs.map((g, k) => single(k, Float32Array.from(g), Float32Array.from(as[k]!)))
      const want = expected(gs, as)
      return Array.from(sumOf(fold(parts, merges, naive))).some((v, e) => Math.abs(v - want[e]!) > 1e-6 * (1 + Math.abs(want[e]!)))
    }).length
    expect(failures).toBeGreaterThan(60)
  })

  it('partials that do not fit together are typed errors', () => {
    const g = new Float32Array(R * D).fill(1)
    const p0 = single(0, g, g)
    const p2 = single(2, g, g)
    expect(E.isLeft(conductanceSum.combine({}, p0, p2))).toBe(true)
    expect(E.isLeft(conductanceSum.combine({}, p0, { ...single(1, g, g), data: { values: 2 } }))).toBe(true)
  })
})
