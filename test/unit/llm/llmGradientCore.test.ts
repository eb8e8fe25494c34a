// The one-pass gradient core against Captum's per-token scheme (an independent oracle), its
// completeness, chunking, pass counts, tensor hygiene and bad plans.
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, describe, expect, it } from 'vitest'
import type { Model } from '../../../src/core/backend.js'
import { quadrature, type QuadratureRule } from '../../../src/dsl/quadratureRules.js'
import { embeddingPathAttribution, type EmbeddingPathPlan, type EmbeddingPathResult, type PathPoint } from '../../../src/llm/llmGradientCore.js'
import { perTokenOracle, tinyTfjsLm } from './llmGradientModels.js'

const lm = tinyTfjsLm()
const acausal = tinyTfjsLm(false)
afterAll(() => {
  lm.dispose()
  acausal.dispose()
})

const run = async <T>(model: Model<T>, plan: EmbeddingPathPlan): Promise<EmbeddingPathResult> => {
  const r = await embeddingPathAttribution(model, plan)()
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`)
  return r.right
}

const igPoints = (rule: QuadratureRule, n: number): PathPoint[] => {
  const q = quadrature(rule, n)
  if (typeof q === 'string') throw new Error(q)
  return Array.from(q.alphas, (alpha, k) => ({ baseline: 0, alpha, weight: q.weights[k]! }))
}

const rows = (r: EmbeddingPathResult, T: number, P: number): number[][] => Array.from({ length: T }, (_, t) => Array.from(r.tokenAttr.subarray(t * P, (t + 1) * P)))
const maxDiff = (a: number[][], b: number[][]): number => Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i]![j]!))))

const ids = fc.integer({ min: 4, max: 101 })
const case_ = fc.record({
  prompt: fc.array(ids, { minLength: 1, maxLength: 5 }),
  target: fc.array(ids, { minLength: 1, maxLength: 4 }),
  baselineId: fc.integer({ min: 0, max: 3 }),
  method: fc.constantFrom<'ig' | 'gxa' | 'shap'>('ig', 'gxa', 'shap'),
  alphas: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 3 }),
  nSteps: fc.integer({ min: 2, max: 5 }),
  rule: fc.constantFrom<QuadratureRule>('gausslegendre', 'riemann_trapezoid', 'riemann_left'),
})

describe('embeddingPathAttribution: one teacher-forced pass per chunk equals one attribution call per target token', () => {
  it('per-token rows equal the per-token oracle (IG, gradient × activation, random GradientShap points)', async () => {
    await fc.assert(
      fc.asyncProperty(case_, async (c) => {
        const baselines = c.method === 'gxa' ? ('zero' as const) : [c.prompt.map(() => c.baselineId), c.prompt.map((_, i) => i % 4)]
        const points: PathPoint[] =
          c.method === 'ig' ? igPoints(c.rule, c.nSteps) : c.method === 'gxa' ? [{ baseline: 0, alpha: 1, weight: 1 }] : c.alphas.map((alpha, s) => ({ baseline: s % 2, alpha, weight: 1 / c.alphas.length }))
        const got = await run(lm.model, { layer: 'emb', promptIds: c.prompt, targetIds: c.target, baselines, points, multiplyByInputs: true })
        const want = await perTokenOracle(lm.model, 'emb', c.prompt, c.target, baselines, points)
        expect(maxDiff(rows(got, c.target.length, c.prompt.length), want.attr)).toBeLessThan(2e-5)
      }),
      { seed: 15, numRuns: 25 },
    )
  })

  it('multiplyByInputs: false gives the plain gradient sums, as the oracle does', async () => {
    const prompt = [5, 17, 40]
    const target = [8, 9]
    const points = igPoints('gausslegendre', 4)
    const got = await run(lm.model, { layer: 'emb', promptIds: prompt, targetIds: target, baselines: [[0, 0, 0]], points, multiplyByInputs: false })
    const want = await perTokenOracle(lm.model, 'emb', prompt, target, [[0, 0, 0]], points, false)
    expect(maxDiff(rows(got, 2, 3), want.attr)).toBeLessThan(2e-5)
  })

  it('negative control: without causal masking the one-pass rows differ from per-token calls', async () => {
    const prompt = [5, 17, 40, 22]
    const target = [8, 9, 61]
    const points = igPoints('gausslegendre', 4)
    const got = await run(acausal.model, { layer: 'emb', promptIds: prompt, targetIds: target, baselines: [[0, 0, 0, 0]], points, multiplyByInputs: true })
    const want = await perTokenOracle(acausal.model, 'emb', prompt, target, [[0, 0, 0, 0]], points)
    expect(maxDiff(rows(got, 3, 4), want.attr)).toBeGreaterThan(1e-3)
  })
})

describe('embeddingPathAttribution: IG completeness per target token', () => {
  const prompt = [12, 57, 26, 5]
  const target = [38, 4, 8]
  const baseline = [0, 0, 0, 0]
  const lp = async (p: readonly number[]): Promise<Float64Array> =>
    (await run(lm.model, { layer: 'emb', promptIds: p, targetIds: target, baselines: 'zero', points: [{ baseline: 0, alpha: 1, weight: 1 }], multiplyByInputs: true })).logProbs

  it('Σ_p attr[t, p] = log p_t(x) − log p_t(baseline) within the quadrature error', async () => {
    const r = await run(lm.model, { layer: 'emb', promptIds: prompt, targetIds: target, baselines: [baseline], points: igPoints('gausslegendre', 64), multiplyByInputs: true })
    const x = await lp(prompt)
    const b = await lp(baseline)
    rows(r, 3, 4).forEach((row, t) => expect(Math.abs(row.reduce((a, v) => a + v, 0) - (x[t]! - b[t]!))).toBeLessThan(1e-4))
  })

  it('negative control: dropping the last quadrature node breaks completeness', async () => {
    const pts = igPoints('gausslegendre', 64).slice(0, -1)
    const r = await run(lm.model, { layer: 'emb', promptIds: prompt, targetIds: target, baselines: [baseline], points: pts, multiplyByInputs: true })
    const x = await lp(prompt)
    const b = await lp(baseline)
    const worst = Math.max(...rows(r, 3, 4).map((row, t) => Math.abs(row.reduce((a, v) => a + v, 0) - (x[t]! - b[t]!))))
    expect(worst).toBeGreaterThan(1e-3)
  })
})

describe('embeddingPathAttribution: passes, chunks, tensors', () => {
  const prompt = [12, 57, 26, 5, 9]
  const target = [38, 4, 8, 31]
  const plan: EmbeddingPathPlan = { layer: 'emb', promptIds: prompt, targetIds: target, baselines: [[0, 0, 0, 0, 0]], points: igPoints('riemann_trapezoid', 6), multiplyByInputs: true }

  it('one chunk: 2 forward calls (endpoints, interior points) and 1 vjp over points × tokens rows; Captum-style: 2 calls per point and token', async () => {
    const r = await run(lm.model, plan)
    // the trapezoid's α = 0 and α = 1 nodes reuse the endpoint logits: 4 interior rows are forwarded
    expect(r.passes).toEqual({ forwardCalls: 2, forwardRows: 2 + 4, vjpCalls: 1, vjpRows: 6 * 4 })
    const oracle = await perTokenOracle(lm.model, 'emb', prompt, target, plan.baselines, plan.points)
    expect(oracle.calls).toBe(4 * (2 + 6 * 2))
  })

  it('any internalBatchSize gives the same attributions (chunks of (point, token) rows)', async () => {
    const all = await run(lm.model, plan)
    for (const n of [1, 3, 5, 7, 24]) {
      const r = await run(lm.model, { ...plan, maxRowsPerPass: n })
      expect(r.passes.vjpCalls).toBe(Math.ceil(24 / n))
      expect(maxDiff(rows(r, 4, 5), rows(all, 4, 5))).toBeLessThan(1e-6)
    }
  })

  it('without maxRowsPerPass the memory budget sets the rows per vjp (logits + seed, float32 [seq, vocabulary] each)', async () => {
    const perRow = 2 * 4 * (5 + 4 - 1) * 102
    const r = await run(lm.model, { ...plan, memoryBudgetBytes: 5 * perRow + 7 })
    expect(r.passes.vjpCalls).toBe(Math.ceil(24 / 5))
    expect((await run(lm.model, { ...plan, memoryBudgetBytes: 1 })).passes.vjpCalls).toBe(24)
    expect((await run(lm.model, { ...plan, memoryBudgetBytes: 1, maxRowsPerPass: 12 })).passes.vjpCalls).toBe(2)
  })

  it('leaves no tfjs tensor behind, also when it fails', async () => {
    await run(lm.model, plan)
    const before = tf.memory().numTensors
    await run(lm.model, { ...plan, maxRowsPerPass: 5 })
    expect(tf.memory().numTensors).toBe(before)
    const bad = await embeddingPathAttribution(lm.model, { ...plan, targetIds: [38, 1.5] })()
    expect(E.isLeft(bad) && bad.left._tag).toBe('BadTarget')
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('embeddingPathAttribution: bad plans are typed errors', () => {
  const base: EmbeddingPathPlan = { layer: 'emb', promptIds: [5, 6], targetIds: [7], baselines: [[0, 0]], points: [{ baseline: 0, alpha: 0.5, weight: 1 }], multiplyByInputs: true }
  const tag = async (p: Partial<EmbeddingPathPlan>): Promise<string> => {
    const r = await embeddingPathAttribution(lm.model, { ...base, ...p })()
    return E.isLeft(r) ? `${r.left._tag}:${r.left.path.join('.')}` : 'ok'
  }
  it.each([
    [{ promptIds: [] }, 'EmptyInput:input'],
    [{ targetIds: [] }, 'EmptyInput:target'],
    [{ points: [] }, 'EmptyInput:points'],
    [{ layer: 'nope' }, 'UnknownTensor:layer'],
    [{ baselines: [[0]] }, 'BadBaseline:baselines.0'],
    [{ points: [{ baseline: 1, alpha: 0.5, weight: 1 }] }, 'BadBaseline:points.0'],
    [{ targetIds: [7, -1] }, 'BadTarget:target.1'],
    [{ promptIds: [5, 0.5] }, 'InvalidSpec:input.1'],
    [{ baselines: [[0, -2]] }, 'BadBaseline:baselines.0'],
    [{}, 'ok'],
  ] as const)('%j → %s', async (p, want) => {
    expect(await tag(p as Partial<EmbeddingPathPlan>)).toBe(want)
  })
})
