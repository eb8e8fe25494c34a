import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Model } from '../../../src/core/backend.js'
import { float32, hostGatherRows, toFloat64, type HostTensor } from '../../../src/core/tensor.js'
import { tracInCP, tracInCPFast, tracInCPFastRandProj, type Checkpoint, type InfluenceData } from '../../../src/influence/tracIn.js'
import { left, right } from '../../helpers/reference.js'
import { expectedInfluence, learningRates, loadCheckpoints, test as testData, train } from './fixture.js'

let cks: Checkpoint<HostTensor>[] = []
beforeAll(async () => {
  cks = await loadCheckpoints()
})
afterAll(async () => {
  await Promise.all(cks.map((c) => c.model.dispose()))
})

const run = async <A>(te: () => Promise<E.Either<unknown, A>>): Promise<A> => {
  const r = await te()
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
  return r.right
}

const rowsOf = (d: InfluenceData): HostTensor => d.inputs as HostTensor

/** ∇θ L(row i) over every parameter, flattened: one forward and one vjp per row, seed written out here. */
const oracleGrad = async (model: Model<HostTensor>, d: InfluenceData, i: number): Promise<Float64Array> => {
  const x = hostGatherRows(rowsOf(d), Int32Array.of(i))
  const out = await run(model.forward([x]))
  const z = toFloat64(out.output)
  const y = Number(d.labels.data[i])
  const ez = Array.from(z, (v) => Math.exp(v))
  const s = ez.reduce((a, b) => a + b, 0)
  const seed = float32([1, z.length], ez.map((e, c) => e / s - (c === y ? 1 : 0)))
  const params = model.signature.parameters ?? []
  const r = await run(model.vjp([x], { kind: 'linear', seed: () => E.right(seed) }, { wrt: params.map((p) => ({ kind: 'param' as const, name: p.name })) }))
  return Float64Array.from(r.grads.flatMap((g) => Array.from(toFloat64(g))))
}

const dot = (a: Float64Array, b: Float64Array): number => a.reduce((s, v, k) => s + v * b[k]!, 0)

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void => {
  expect(got.length).toBe(want.length)
  const scale = Math.max(1, ...Array.from(want, Math.abs))
  for (let k = 0; k < got.length; k++) expect(Math.abs(got[k]! - want[k]!)).toBeLessThanOrEqual(tol * scale)
}

describe('TracInCP on the reference checkpoints', () => {
  it('signature.parameters lists the six mlp parameters with their fully-connected factorisations', () => {
    const ps = cks[0]!.model.signature.parameters ?? []
    expect(ps.map((p) => p.name)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias'])
    expect(ps[4]!.perExample).toEqual({ kind: 'outer', output: 'logits', input: '/relu2/Relu_output_0', outputFirst: true, scale: 1 })
    expect(ps[1]!.perExample).toEqual({ kind: 'rows', output: '/fc1/Gemm_output_0', scale: 1 })
  })

  it('self-influence equals Σ_c lr_c ‖∇θ L‖² from independent per-row gradients (and not with the learning rates dropped)', async () => {
    const t = right(tracInCP(cks, train, { batchSize: 4 }))
    const self = toFloat64(await run(t.selfInfluence()))
    const want = new Float64Array(10)
    const unweighted = new Float64Array(10)
    for (const [c, ck] of cks.entries()) {
      for (let i = 0; i < 10; i++) {
        const g = await oracleGrad(ck.model, train, i)
        want[i]! += learningRates[c]! * dot(g, g)
        unweighted[i]! += dot(g, g)
      }
    }
    close(self, want, 1e-5)
    expect(Math.max(...self.map((v, i) => Math.abs(v - unweighted[i]!)))).toBeGreaterThan(0.1)
  })

  it('influence of the training set on itself is symmetric, with the self-influence on its diagonal', async () => {
    const t = right(tracInCP(cks, train, { batchSize: 3 }))
    const m = toFloat64(await run(t.influence(train)))
    const self = toFloat64(await run(t.selfInfluence()))
    for (let i = 0; i < 10; i++) {
      expect(m[i * 10 + i]).toBeCloseTo(self[i]!, 4)
      for (let j = 0; j < i; j++) expect(m[i * 10 + j]).toBeCloseTo(m[j * 10 + i]!, 5)
    }
  })

  it('factorised (sample-wise) and per-example gradients give the same scores, at any batch size, matching Captum', async () => {
    const a = toFloat64(await run(right(tracInCP(cks, train, { batchSize: 4 })).influence(testData)))
    const b = toFloat64(await run(right(tracInCP(cks, train, { batchSize: 1, sampleWiseGradsPerBatch: false })).influence(testData)))
    close(a, b, 1e-5)
    close(a, toFloat64(expectedInfluence), 1e-4)
  })

  it('aggregate sums the rows; topK orders proponents descending and opponents ascending', async () => {
    const t = right(tracInCP(cks, train))
    const m = toFloat64(await run(t.influence(testData)))
    const agg = await run(t.influence(testData, { aggregate: true }))
    expect(agg.shape).toEqual([1, 10])
    close(toFloat64(agg), Array.from({ length: 10 }, (_, j) => m[j]! + m[10 + j]! + m[20 + j]!), 1e-6)
    const pro = await run(t.topK(testData, { k: 3 }))
    const opp = await run(t.topK(testData, { k: 3, proponents: false }))
    for (let i = 0; i < 3; i++) {
      const row = Array.from(m.slice(i * 10, i * 10 + 10))
      const desc = row.map((v, j) => [v, j] as const).sort((p, q) => q[0] - p[0])
      expect(Array.from(pro.indices.data.slice(i * 3, i * 3 + 3), Number)).toEqual(desc.slice(0, 3).map((p) => p[1]))
      expect(Array.from(opp.indices.data.slice(i * 3, i * 3 + 3), Number)).toEqual(desc.slice(-3).reverse().map((p) => p[1]))
      close(pro.influenceScores.data.slice(i * 3, i * 3 + 3), desc.slice(0, 3).map((p) => p[0]), 1e-6)
    }
    expect(left(await t.topK(testData, { k: 11 })())._tag).toBe('BadTarget')
  })
})

describe('TracInCPFast and TracInCPFastRandProj', () => {
  it('TracInCPFast equals TracInCP over the final weight; adding the bias adds Σ_c lr_c (g·g′)', async () => {
    const fast = toFloat64(await run(right(tracInCPFast(cks, train, { finalFcLayer: 'fc3.weight' })).influence(testData)))
    const viaOutput = toFloat64(await run(right(tracInCPFast(cks, train, { finalFcLayer: 'logits' })).influence(testData)))
    const w = toFloat64(await run(right(tracInCP(cks, train, { parameters: ['fc3.weight'] })).influence(testData)))
    const wb = toFloat64(await run(right(tracInCP(cks, train, { parameters: ['fc3.weight', 'fc3.bias'] })).influence(testData)))
    const b = toFloat64(await run(right(tracInCP(cks, train, { parameters: ['fc3.bias'] })).influence(testData)))
    close(fast, w, 1e-6)
    close(viaOutput, fast, 0)
    close(wb, Array.from(fast, (v, k) => v + b[k]!), 1e-6)
    expect(Math.max(...b.map(Math.abs))).toBeGreaterThan(0.01)
  })

  it('RandProj without a projection, or with one at least as large as the factors, equals TracInCPFast', async () => {
    const fast = toFloat64(await run(right(tracInCPFast(cks, train, { finalFcLayer: 'fc3.weight' })).influence(testData)))
    const none = toFloat64(await run(right(tracInCPFastRandProj(cks, train, { finalFcLayer: 'fc3.weight' })).influence(testData)))
    // per checkpoint d = 256: a (16 numbers) gets min(16, √256) = 16, g (3 numbers) min(3, 256 / 16): neither shrinks
    const big = toFloat64(await run(right(tracInCPFastRandProj(cks, train, { finalFcLayer: 'fc3.weight', projectionDim: 3 * 256 })).influence(testData)))
    close(none, fast, 1e-9)
    close(big, fast, 1e-9)
  })

  it('a projection approximates TracInCPFast, is seeded, and gets closer as the dimension grows', async () => {
    const fast = toFloat64(await run(right(tracInCPFast(cks, train, { finalFcLayer: 'fc3.weight' })).influence(testData)))
    const err = async (dim: number, seed: number): Promise<number> => {
      const p = toFloat64(await run(right(tracInCPFastRandProj(cks, train, { finalFcLayer: 'fc3.weight', projectionDim: dim, seed })).influence(testData)))
      const num = p.reduce((s, v, k) => s + (v - fast[k]!) ** 2, 0)
      return Math.sqrt(num / fast.reduce((s, v) => s + v * v, 0))
    }
    const seeds = [0, 1, 2, 3, 4, 5]
    const small = (await Promise.all(seeds.map((s) => err(12, s)))).reduce((a, b) => a + b) / seeds.length
    const large = (await Promise.all(seeds.map((s) => err(108, s)))).reduce((a, b) => a + b) / seeds.length
    expect(large).toBeLessThan(small)
    expect(large).toBeLessThan(0.6)
    expect(await err(48, 7)).toBe(await err(48, 7))
    expect(await err(48, 7)).not.toBe(await err(48, 8))
    const topK = await run(right(tracInCPFastRandProj(cks, train, { finalFcLayer: 'fc3.weight' })).topK(testData, { k: 2 }))
    expect(topK.indices.shape).toEqual([3, 2])
  })
})

describe('TracIn errors', () => {
  it('reports bad checkpoints, data, options and parameters as typed errors', async () => {
    expect(left(tracInCP([], train))._tag).toBe('EmptyInput')
    expect(left(tracInCP([{ model: cks[0]!.model, learningRate: Number.NaN }], train))).toMatchObject({ _tag: 'BadModel', path: ['checkpoints', '0', 'learningRate'] })
    expect(left(tracInCP(cks, train, { batchSize: 0 }))._tag).toBe('InvalidSpec')
    expect(left(tracInCP(cks, train, { parameters: ['fc9.weight'] }))).toMatchObject({ _tag: 'UnknownTensor', path: ['options', 'parameters'] })
    expect(left(tracInCP(cks, { inputs: train.inputs, labels: hostGatherRows(train.labels, Int32Array.of(0, 1)) }))._tag).toBe('ShapeMismatch')
    expect(left(tracInCPFast(cks, train, { finalFcLayer: 'fc2.weight' }))).toMatchObject({ _tag: 'Unsupported', path: ['options', 'finalFcLayer'] })
    expect(left(tracInCPFast(cks, train, { finalFcLayer: 'fc3.bias' }))._tag).toBe('UnknownTensor')
    const t = right(tracInCP(cks, train))
    const badLabels: InfluenceData = { inputs: testData.inputs, labels: { dtype: 'int64', shape: [3], data: BigInt64Array.from([0n, 5n, 1n]) } }
    expect(left(await t.influence(badLabels)())).toMatchObject({ _tag: 'BadTarget', path: ['test', 'labels', '1'] })
    expect(left(await t.selfInfluence({ inputs: testData.inputs, labels: float32([3], [0, 1, 2]) })())._tag).toBe('ShapeMismatch')
  })
})
