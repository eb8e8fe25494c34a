import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as E from 'fp-ts/lib/Either.js'
import { KernelShap, float32, type HostTensor, type Model } from '../../../src/index.js'
import { argmaxRows, groupMask, loadMeta, loadModel, rawColumns, testSet, type PenguinMeta, type TestSet } from '../../../examples/penguins.js'

// The committed penguin classifier (examples/assets/penguins, made by scripts/train-penguins.py)
// and the TypeScript preprocessing of examples/penguins.ts must agree with the training script.
describe('the penguin example model', () => {
  let meta: PenguinMeta
  let test: TestSet
  let model: Model<HostTensor>

  beforeAll(async () => {
    meta = loadMeta()
    test = testSet(meta)
    model = await loadModel()
  })
  afterAll(async () => {
    await model.dispose()
  })

  const logitsOf = async (x: HostTensor): Promise<HostTensor> => {
    const out = await model.forward([x])()
    if (E.isLeft(out)) throw new Error(out.left.message)
    return out.right.output
  }
  const correctOf = async (x: HostTensor): Promise<number> => argmaxRows(await logitsOf(x)).filter((p, i) => p === test.labels[i]).length

  it('classifies the held-out rows as the training script reported (± one row)', async () => {
    expect(test.labels.length).toBe(meta.testRows.length)
    expect(test.labels.every((l) => l >= 0)).toBe(true)
    expect(Math.abs((await correctOf(test.x)) - meta.testCorrect)).toBeLessThanOrEqual(1)
  })

  it('needs the standardisation: the raw columns are classified far worse (negative control)', async () => {
    const raw = float32([test.raw.length, meta.columns.length], test.raw.flat())
    expect(await correctOf(raw)).toBeLessThan(meta.testCorrect - 5)
  })

  it('drops rows with a missing value', () => {
    const row = { ...test.rows[0]!, 'Body Mass (g)': null }
    expect(rawColumns(row, meta)).toBeUndefined()
    expect(rawColumns({ ...test.rows[0]!, Sex: '.' }, meta)).toBeUndefined()
  })

  it("KernelShap's six grouped attributions of one row add up to f(x) − f(baseline)", async () => {
    const m = meta.columns.length
    const x = float32([1, m], (test.x.data as Float32Array).subarray(0, m))
    const zero = float32([1, m], new Array<number>(m).fill(0))
    const target = test.labels[0]!
    const fx = (await logitsOf(x)).data[target] as number
    const fBase = (await logitsOf(zero)).data[target] as number
    const attr = await new KernelShap(model).attribute(x, { target, baselines: 0, featureMask: groupMask(meta), nSamples: 64, seed: 0, returnInputShape: false })
    expect(attr.shape).toEqual([1, meta.groups.length])
    const sum = Array.from(attr.data as Float32Array).reduce((a, v) => a + v, 0)
    expect(Math.abs(sum - (fx - fBase))).toBeLessThan(1e-3 * Math.max(1, Math.abs(fx - fBase)))
    // negative control: the baseline's output is far from 0, so the sum is not f(x) itself
    expect(Math.abs(fBase)).toBeGreaterThan(0.1)
    expect(Math.abs(sum - fx)).toBeGreaterThan(0.1)
  })
})
