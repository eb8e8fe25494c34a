// PGD properties on random tfjs MLPs: the result never leaves the ball of the radius around the
// input (L∞ and L2), with or without a random start, and always respects the bounds; the same
// seed gives the same random start, another seed another; chunking changes nothing; the ball
// check itself flags an unprojected attack (negative control).
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { fromTfjs } from '../../../src/backends/tfjs/index.js'
import { fgsm, float32, pgd, type HostTensor, type PgdOptions, type PgdResult } from '../../../src/index.js'
import { mlpArb, mlpFn } from '../../helpers/randomMlp.js'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const run = async (model: ReturnType<typeof fromTfjs>, x: HostTensor, o: PgdOptions): Promise<PgdResult> => {
  const r = await pgd(model, x, o)()
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`)
  return r.right
}

/** max |x′ − x| (Linf) or ‖x′ − x‖₂ (L2) per row, computed here from the tensors. */
const dist = (x: HostTensor, p: HostTensor, norm: 'Linf' | 'L2'): number[] => {
  const rows = x.shape[0]!
  const per = x.data.length / rows
  return Array.from({ length: rows }, (_, r) => {
    let acc = 0
    for (let e = 0; e < per; e++) {
      const d = Number(p.data[r * per + e]) - Number(x.data[r * per + e])
      acc = norm === 'Linf' ? Math.max(acc, Math.abs(d)) : acc + d * d
    }
    return norm === 'Linf' ? acc : Math.sqrt(acc)
  })
}

const caseArb = mlpArb('tanh').chain((m) =>
  fc.record({
    m: fc.constant(m),
    // Inputs inside the bounds [−1, 1], so clamping can only move points towards x.
    x: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 2 * m.nIn, maxLength: 2 * m.nIn }),
    y: fc.array(fc.integer({ min: 0, max: m.nOut - 1 }), { minLength: 2, maxLength: 2 }),
    radius: fc.double({ min: 0.01, max: 0.8, noNaN: true }),
    stepSize: fc.double({ min: 0.01, max: 0.5, noNaN: true }),
    stepNum: fc.integer({ min: 1, max: 4 }),
    norm: fc.constantFrom('Linf' as const, 'L2' as const),
    randomStart: fc.boolean(),
    targeted: fc.boolean(),
    seed: fc.integer({ min: 0, max: 1000 }),
  }),
)

describe('pgd', () => {
  it('never leaves the ball of the radius (L∞ and L2) and respects the bounds', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const x = float32([2, c.m.nIn], c.x)
        const r = await run(fromTfjs(mlpFn(c.m)), x, { ...c, target: c.y, lowerBound: -1, upperBound: 1 })
        const p = r.perturbed[0]!
        for (const d of dist(x, p, c.norm)) expect(d).toBeLessThanOrEqual(c.radius * (1 + 1e-6) + 1e-6)
        for (const v of p.data as Float32Array) {
          expect(v).toBeGreaterThanOrEqual(-1)
          expect(v).toBeLessThanOrEqual(1)
        }
        // perturbationNorm reports the same distances.
        dist(x, p, c.norm).forEach((d, i) => expect(Math.abs(Number(r.perturbationNorm[0]!.data[i]) - d)).toBeLessThan(1e-5))
      }),
      { seed: 21, numRuns: 50 },
    )
  })

  it('negative control: the ball check flags the unprojected attack (FGSM with ε = stepNum · stepSize > radius)', async () => {
    const m = { nIn: 3, nHidden: 4, nOut: 2, w1: [0.5, -1, 0.3, 0.8, -0.2, 0.6, 1.1, -0.7, 0.4, -0.5, 0.9, 0.2], b1: [0.1, 0, -0.1, 0.2], w2: [1, -1, 0.5, 0.3, -0.8, 0.6, 0.2, -0.4], b2: [0, 0.1], activation: 'tanh' as const }
    const x = float32([2, 3], [0.1, -0.2, 0.3, -0.4, 0.5, 0.0])
    const f = await fgsm(fromTfjs(mlpFn(m)), x, { epsilon: 0.3, target: [0, 1] })()
    if (E.isLeft(f)) throw new Error(f.left.message)
    expect(Math.max(...dist(x, f.right.perturbed[0]!, 'Linf'))).toBeGreaterThan(0.1 * (1 + 1e-6) + 1e-6)
    const p = await run(fromTfjs(mlpFn(m)), x, { radius: 0.1, stepSize: 0.1, stepNum: 3, target: [0, 1] })
    expect(Math.max(...dist(x, p.perturbed[0]!, 'Linf'))).toBeLessThanOrEqual(0.1 * (1 + 1e-6))
  })

  it('draws the same random start for the same seed and another for another seed (L∞ and L2)', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const model = fromTfjs(mlpFn(c.m))
        const x = float32([2, c.m.nIn], c.x)
        const o = { ...c, target: c.y, randomStart: true }
        const a = await run(model, x, o)
        const b = await run(model, x, o)
        const other = await run(model, x, { ...o, seed: c.seed + 1 })
        expect(Array.from(b.perturbed[0]!.data as Float32Array)).toEqual(Array.from(a.perturbed[0]!.data as Float32Array))
        expect(Array.from(other.perturbed[0]!.data as Float32Array)).not.toEqual(Array.from(a.perturbed[0]!.data as Float32Array))
      }),
      { seed: 22, numRuns: 20 },
    )
  })

  it('does not depend on the chunk size (random start included)', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const model = fromTfjs(mlpFn(c.m))
        const x = float32([2, c.m.nIn], c.x)
        const o = { ...c, target: c.y }
        const whole = await run(model, x, o)
        const chunked = await run(model, x, { ...o, memoryBudgetBytes: 1 })
        expect(Array.from(chunked.perturbed[0]!.data as Float32Array)).toEqual(Array.from(whole.perturbed[0]!.data as Float32Array))
      }),
      { seed: 23, numRuns: 15 },
    )
  })

  it('with a zero mask does not move at all, random start included', async () => {
    const m = { nIn: 2, nHidden: 2, nOut: 2, w1: [1, -1, 0.5, 2], b1: [0, 0], w2: [1, -1, -1, 1], b2: [0, 0], activation: 'tanh' as const }
    const x = float32([1, 2], [0.2, -0.4])
    const r = await run(fromTfjs(mlpFn(m)), x, { radius: 0.5, stepSize: 0.2, stepNum: 3, target: 0, randomStart: true, mask: float32([1, 2], [0, 0]) })
    expect(Array.from(r.perturbed[0]!.data as Float32Array)).toEqual(Array.from(x.data as Float32Array))
  })
})
