// The metrics as values (registry, JSON, describe), their run-time contract (chunking, seeds,
// progress, cancellation, no leaks) and their analytic cases with negative controls.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import {
  ClarusError, METRICS, decodePipeline, pipeline, stage, describe as describePipeline, evaluate, infidelity, integratedGradients, layerGradCam, saliency, sensitivityMax,
  type AttributionError, type CallOptions, type HostTensor, type PerturbationFn, type Pipeline,
} from '../../../src/index.js'

const W = [0.5, -2, 1.5, 0.25]
/** A linear model F(x) = w·x (one output per example). */
const linear = fromTfjs((x: tf.Tensor) => tf.tidy(() => tf.matMul(x as tf.Tensor2D, tf.tensor2d(W, [4, 1]))))
/** F(x) = Σ x² (its gradient 2x moves with x). */
const square = fromTfjs((x: tf.Tensor) => tf.tidy(() => tf.sum(tf.square(x), 1, true)))
/** Three outputs per example. */
const three = fromTfjs((x: tf.Tensor) => tf.tidy(() => tf.matMul(x as tf.Tensor2D, tf.ones([4, 3]))))

const X = [[1, 2, -1, 0.5], [-0.5, 1, 3, 2]]
const x = (): tf.Tensor => tf.tensor2d(X)

const run = async (metric: Pipeline, model: typeof linear, options: CallOptions<tf.Tensor> = {}): Promise<E.Either<AttributionError, Float32Array>> => {
  const xs = x()
  try {
    const r = await evaluate(metric, model, xs, options)()
    return E.map((m: { scores: HostTensor }) => m.scores.data as Float32Array)(r)
  } finally {
    xs.dispose()
  }
}
const scores = async (metric: Pipeline, model: typeof linear, options: CallOptions<tf.Tensor> = {}): Promise<number[]> => {
  const r = await run(metric, model, options)
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`)
  return Array.from(r.right)
}
const failure = async (metric: Pipeline, model: typeof linear, options: CallOptions<tf.Tensor> = {}): Promise<AttributionError> => {
  const r = await run(metric, model, options)
  if (E.isRight(r)) throw new Error(`expected an error, got scores ${Array.from(r.right).join(', ')}`)
  return r.left
}

/** A fixed perturbation δ per element, the same for every row: x̃ = x + δ (I = −δ for infidelity's x̃ = x − I). */
const fixed = (delta: readonly number[]): PerturbationFn => ({ inputs }) => {
  const x = inputs[0]!
  const d = Float32Array.from(x.data as Float32Array, (_, e) => delta[e % delta.length]!)
  return {
    perturbed: [{ dtype: 'float32', shape: [...x.shape], data: Float32Array.from(x.data as Float32Array, (v, e) => v + d[e]!) }],
    perturbation: [{ dtype: 'float32', shape: [...x.shape], data: d.map((v) => -v) }],
  }
}

const noise = { _tag: 'noise', stdevs: 0.1 } as const

beforeAll(async () => {
  await tf.setBackend('cpu')
})

describe('METRICS', () => {
  it('every entry builds a pipeline that survives JSON and prints with describe', () => {
    const builds: Record<keyof typeof METRICS, Pipeline> = {
      infidelity: METRICS.infidelity.build(saliency(), { perturbation: noise }),
      sensitivityMax: METRICS.sensitivityMax.build(integratedGradients({ nSteps: 8 })),
      sparseness: METRICS.sparseness.build(saliency()),
      complexity: METRICS.complexity.build('given'),
      completeness: METRICS.completeness.build(integratedGradients({ nSteps: 8 })),
      deletion: METRICS.deletion.build(saliency()),
      insertion: METRICS.insertion.build('given', { order: 'lerf', stepSize: 2 }),
      monotonicity: METRICS.monotonicity.build(saliency(), { stepSize: 2 }),
      faithfulnessCorrelation: METRICS.faithfulnessCorrelation.build('given', { nSamples: 5, subsetSize: 2 }),
      maxSensitivity: METRICS.maxSensitivity.build(saliency()),
      avgSensitivity: METRICS.avgSensitivity.build(saliency(), { nPerturbSamples: 4 }),
      localLipschitzEstimate: METRICS.localLipschitzEstimate.build(saliency(), { normOrd: 'inf' }),
    }
    for (const p of Object.values(builds)) {
      const back = decodePipeline(JSON.parse(JSON.stringify(p)))
      expect(E.isRight(back) && back.right).toEqual(p)
    }
    expect(describePipeline(builds.infidelity)).toMatch(/infidelityPerturb\(10 samples, I ~ N\(0, 0.1²\)/)
    expect(describePipeline(builds.sensitivityMax)).toMatch(/sensitivityScore\(max over samples of ‖e\(x\) − e\(x̃\)‖ \/ ‖e\(x\)‖, norm fro\)/)
    expect(METRICS.infidelity.better).toBe('lower')
  })

  it('bad options throw a ClarusError naming every bad field', () => {
    const e = ((): unknown => {
      try {
        METRICS.sensitivityMax.build(saliency(), { nPerturbSamples: 0, normOrd: 0.5 })
      } catch (u) {
        return u
      }
      return undefined
    })()
    expect(e).toBeInstanceOf(ClarusError)
    const error = (e as ClarusError).error
    const paths = error._tag === 'InvalidSpec' ? error.issues.map((i) => i.path.join('.')) : []
    expect(paths).toEqual(expect.arrayContaining(['nPerturbSamples', 'normOrd']))
    expect(() => METRICS.infidelity.build(saliency(), {})).toThrow(ClarusError)
    expect(() => METRICS.sensitivityMax.build('given')).toThrow(/re-runs the explained method/)
  })

  it('hand-written metric pipelines are checked before anything runs', () => {
    const perturb = stage.infidelityPerturb({ nSamples: 2, perturbation: noise })
    // no F(x): the reference stage is missing
    expect(() => pipeline('m', stage.explain({ pipeline: saliency() }), perturb, stage.forward(), stage.infidelityScore({ normalize: false }))).toThrow(/'reference'/)
    // perturbing towards baselines declares them, so the call's baselines (zeros by default) reach it even when the method takes none
    expect(() => pipeline('m', stage.reference(), stage.explain({ pipeline: saliency() }), stage.infidelityPerturb({ nSamples: 2, perturbation: { _tag: 'baseline' } }), stage.forward(), stage.infidelityScore({ normalize: false })))
      .not.toThrow()
    // the sensitivity reducer needs explanations, not model outputs
    expect(() => pipeline('m', stage.explain({ pipeline: saliency() }), stage.sensitivityPerturb({ nSamples: 2, radius: 0.1 }), stage.sensitivityScore({ norm: 'fro' }))).toThrow(/sensitivityScore/)
    expect(() => pipeline('m', stage.sensitivityPerturb({ nSamples: 2, radius: 0.1 }), stage.apply(saliency()), stage.sensitivityScore({ norm: 'fro' }))).toThrow(/sensitivityPerturb perturbs the inputs an explanation was computed at/)
  })

  it('a layer method cannot be explained by a metric (checked when the pipeline is built)', () => {
    expect(() => infidelity(layerGradCam({ layer: 'conv' }), { perturbation: noise })).toThrow(/attributes to a layer/)
  })
})

describe('infidelity', () => {
  it('is 0 for exact attributions of a linear model, and not for wrong ones (negative control)', async () => {
    // IG without × (x − x′) on a linear model is w itself: Σ I ⊙ w = F(x) − F(x − I) for every I
    const exact = await scores(infidelity(integratedGradients({ multiplyByInputs: false, nSteps: 4 }), { perturbation: noise }), linear)
    exact.forEach((v) => expect(v).toBeLessThan(1e-10))
    const wrong = await scores(infidelity(saliency(), { perturbation: noise }), linear)
    wrong.forEach((v) => expect(v).toBeGreaterThan(1e-3))
  })

  it('matches the definition for a fixed perturbation, and normalize rescales the attributions optimally', async () => {
    const delta = [0.1, -0.2, 0.05, 0.3]
    const plugins = { perturbations: { fixed: fixed(delta) } }
    // Saliency (|w|) on the linear model: s = Σ −δ ⊙ |w|, d = F(x) − F(x + δ) = −w·δ
    const s = -delta.reduce((a, d, i) => a + d * Math.abs(W[i]!), 0)
    const d = -delta.reduce((a, v, i) => a + v * W[i]!, 0)
    const got = await scores(infidelity(saliency(), { perturbation: { _tag: 'custom', name: 'fixed' }, nPerturbSamples: 3 }), linear, { plugins })
    got.forEach((v) => expect(v).toBeCloseTo((s - d) ** 2, 6))
    // with one repeated perturbation the best β makes βs = d exactly
    const normalized = await scores(infidelity(saliency(), { perturbation: { _tag: 'custom', name: 'fixed' }, nPerturbSamples: 3, normalize: true }), linear, { plugins })
    normalized.forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-9))
  })

  it('normalized infidelity does not change when the attributions are scaled; the plain one does', async () => {
    const a = tf.tensor2d([[0.3, -1, 2, 0.1], [1, 0.5, -0.2, 0.7]])
    const a5 = tf.mul(a, 5)
    for (const normalize of [true, false]) {
      const m = infidelity('given', { perturbation: noise, normalize })
      const one = await scores(m, linear, { attributions: a })
      const five = await scores(m, linear, { attributions: a5 })
      one.forEach((v, i) => (normalize ? expect(five[i]!).toBeCloseTo(v, 5) : expect(Math.abs(five[i]! - v)).toBeGreaterThan(1e-3)))
    }
    a.dispose()
    a5.dispose()
  })

  it('does not depend on chunking, depends on the seed only through the draws, and reports progress', async () => {
    const m = (mepb?: number): Pipeline => infidelity(saliency(), { perturbation: noise, nPerturbSamples: 7, ...(mepb !== undefined ? { maxExamplesPerBatch: mepb } : {}) })
    const whole = await scores(m(), square, { seed: 3 })
    expect(await scores(m(2), square, { seed: 3 })).toEqual(whole)
    expect(await scores(m(6), square, { seed: 3 })).toEqual(whole)
    expect(await scores(m(), square, { seed: 3, memoryBudgetBytes: 1 })).toEqual(whole)
    expect(await scores(m(), square, { seed: 4 })).not.toEqual(whole)
    const seen: number[] = []
    const r = await run(m(2), square, { onProgress: (p) => seen.push(p.done / p.total) })
    expect(E.isRight(r)).toBe(true)
    expect(seen[seen.length - 1]).toBe(1)
  })

  it('towards baselines: replacing every element gives (Σ a − (F(x) − F(x′)))², a subset is drawn per sample', async () => {
    const b = tf.tensor2d([[0, 1, 0, 1]])
    const ig = integratedGradients({ nSteps: 16 })
    const whole = await scores(infidelity(ig, { perturbation: { _tag: 'baseline', probability: 1 }, nPerturbSamples: 2 }), linear, { baselines: b })
    // IG is exact on a linear model: Σ a = F(x) − F(x′)
    whole.forEach((v) => expect(v).toBeLessThan(1e-9))
    const half = await scores(infidelity(ig, { perturbation: { _tag: 'baseline', probability: 0.5 }, nPerturbSamples: 8 }), linear, { baselines: b })
    // I is the mask (x − x̃)/(x − x′): Σ I ⊙ a = F(x) − F(x̃) for a linear model too
    half.forEach((v) => expect(v).toBeLessThan(1e-9))
    const rawI = await scores(infidelity(ig, { perturbation: { _tag: 'baseline', probability: 0.5, multiplyByInputs: false }, nPerturbSamples: 8 }), linear, { baselines: b })
    expect(Math.max(...rawI)).toBeGreaterThan(1e-3)
    b.dispose()
  })
})

describe('sensitivityMax', () => {
  it('is 0 for the gradient of a linear model, and not for a model whose gradient moves (negative control)', async () => {
    const lin = await scores(sensitivityMax(saliency({ abs: false })), linear)
    lin.forEach((v) => expect(v).toBe(0))
    // Σ x²: e = 2x, so the score is max ‖δ‖/‖x‖ over the draws, below r·√d/‖x‖ and above 0
    const sq = await scores(sensitivityMax(saliency({ abs: false }), { perturbRadius: 0.05 }), square)
    sq.forEach((v, i) => {
      const norm = Math.hypot(...X[i]!)
      expect(v).toBeGreaterThan(0)
      expect(v).toBeLessThanOrEqual((0.05 * 2) / norm + 1e-6)
    })
  })

  it('uses Captum\'s norms: fro, inf and p', async () => {
    const delta = [0.1, -0.2, 0.05, 0.3]
    const plugins = { perturbations: { fixed: fixed(delta) } }
    const cases: [('fro' | 'inf' | number), (v: readonly number[]) => number][] = [
      ['fro', (v) => Math.hypot(...v)],
      ['inf', (v) => Math.max(...v.map(Math.abs))],
      [1, (v) => v.reduce((a, b) => a + Math.abs(b), 0)],
      [3, (v) => v.reduce((a, b) => a + Math.abs(b) ** 3, 0) ** (1 / 3)],
    ]
    for (const [normOrd, norm] of cases) {
      const got = await scores(sensitivityMax(saliency({ abs: false }), { normOrd, nPerturbSamples: 2, perturbation: { _tag: 'custom', name: 'fixed' } }), square, { plugins })
      got.forEach((v, i) => expect(v, `norm ${normOrd}`).toBeCloseTo(norm(delta) / norm(X[i]!), 5))
    }
  })

  it('does not depend on chunking and is seeded', async () => {
    const m = (mepb?: number): Pipeline => sensitivityMax(integratedGradients({ nSteps: 6 }), { nPerturbSamples: 5, ...(mepb !== undefined ? { maxExamplesPerBatch: mepb } : {}) })
    const whole = await scores(m(), square, { seed: 1 })
    expect(await scores(m(2), square, { seed: 1 })).toEqual(whole)
    expect(await scores(m(), square, { seed: 1, memoryBudgetBytes: 1 })).toEqual(whole)
    expect(await scores(m(), square, { seed: 2 })).not.toEqual(whole)
    // progress counts the method's rows at x and at every perturbed point: IG's 6 steps, 1 + 5 times, per example
    const seen: { done: number; total: number }[] = []
    await scores(m(2), square, { seed: 1, onProgress: (p) => seen.push(p) })
    expect(seen[seen.length - 1]).toEqual({ done: 2 * 6 * 6, total: 2 * 6 * 6 })
  })
})

describe('bad input', () => {
  const given = infidelity('given', { perturbation: noise })

  it('given attributions: missing, mis-shaped or given to a metric that runs its own method', async () => {
    expect((await failure(given, linear)).message).toMatch(/pass options.attributions/)
    const wrong = tf.zeros([2, 3])
    const e = await failure(given, linear, { attributions: wrong })
    expect(e._tag).toBe('ShapeMismatch')
    expect(e.path).toEqual(['attributions', '0'])
    const unused = await failure(infidelity(saliency(), { perturbation: noise }), linear, { attributions: wrong })
    expect(unused._tag).toBe('InvalidSpec')
    expect(unused.message).toMatch(/does not use attributions/)
    wrong.dispose()
  })

  it('a target that selects several outputs per example', async () => {
    const a = tf.ones([2, 4])
    const e = await failure(given, three, { target: null, attributions: a })
    expect(e._tag).toBe('BadTarget')
    expect(e.message).toMatch(/picks one output/)
    a.dispose()
  })

  it('a perturbation plug-in that is missing or returns the wrong shape', async () => {
    const m = infidelity(saliency(), { perturbation: { _tag: 'custom', name: 'mine' } })
    expect((await failure(m, linear)).message).toMatch(/options\.plugins\.perturbations/)
    const bad: PerturbationFn = ({ inputs }) => ({ perturbed: inputs, perturbation: [{ dtype: 'float32', shape: [1], data: new Float32Array(1) }] })
    const e = await failure(m, linear, { plugins: { perturbations: { mine: bad } } })
    expect(e._tag).toBe('ShapeMismatch')
    expect(e.message).toMatch(/expected float32 \[20, 4\]/)
  })

  it('integer inputs, cancellation and a wrong stdevs list', async () => {
    const ints = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32')
    const r = await evaluate(infidelity('given', { perturbation: noise }), linear, ints, { attributions: tf.zeros([1, 4], 'int32') })()
    expect(E.isLeft(r) && r.left._tag).toBe('DTypeMismatch')
    ints.dispose()
    const ctl = new AbortController()
    ctl.abort()
    expect((await failure(sensitivityMax(saliency()), square, { signal: ctl.signal }))._tag).toBe('Cancelled')
    const e = await failure(infidelity(saliency(), { perturbation: { _tag: 'noise', stdevs: [0.1, 0.2] } }), linear)
    expect(e._tag).toBe('ShapeMismatch')
  })
})

describe('tfjs tensors', () => {
  it('are all disposed after every metric call, successful or not', async () => {
    const b = tf.tensor2d([[0, 1, 0, 1]])
    const before = tf.memory().numTensors
    await scores(infidelity(integratedGradients({ nSteps: 4 }), { perturbation: { _tag: 'baseline', probability: 0.5 }, nPerturbSamples: 5, maxExamplesPerBatch: 4 }), square, { baselines: b })
    await scores(sensitivityMax(integratedGradients({ nSteps: 4 }), { nPerturbSamples: 3, maxExamplesPerBatch: 2 }), square, { baselines: b })
    await failure(infidelity(saliency(), { perturbation: noise }), three, { target: null })
    expect(tf.memory().numTensors).toBe(before)
    b.dispose()
  })
})
