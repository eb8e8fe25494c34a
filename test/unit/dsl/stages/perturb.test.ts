import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { hostBackend } from '../../../../src/backends/host/hostBackend.js'
import { fromFunction } from '../../../../src/backends/host/index.js'
import { keyOf } from '../../../../src/core/random.js'
import { memoTable, type Flow, type RunContext } from '../../../../src/dsl/flow.js'
import { absentFeatures, absentPositions, layoutOf } from '../../../../src/dsl/perturbation/layout.js'
import { isPerturbChunk, perturb } from '../../../../src/dsl/stages/perturb.js'
import { float32, int64, type HostTensor } from '../../../../src/index.js'

const x = float32([2, 3], [1, 2, 3, 4, 5, 6])
const ctxOf = (featureMask?: HostTensor[]): RunContext<HostTensor> => ({
  model: fromFunction(([v]) => v!), backend: hostBackend, nExamples: 2, inputs: [x], extraArgs: [], target: null, key: keyOf(0),
  chunk: { memoryBudgetBytes: 1e9 }, track: (t) => t, tick: () => undefined,
    modelOptions: {}, memo: memoTable(), runInner: () => () => Promise.reject(new Error('not used')), callData: featureMask ? { featureMask } : {},
})
const flow: Flow<HostTensor> = {
  value: [x], baseline: [float32([2, 3], [-1, -1, -1, -2, -2, -2])], rowExample: Int32Array.of(0, 1), space: { kind: 'input' },
  reference: { outputShape: [2, 3], aggregate: false, selected: new Float32Array(6), selShape: [2, 3] },
}

describe('perturb', () => {
  it('ablates one group per copy, step-major, from the baseline', async () => {
    const p = { features: { _tag: 'masks' as const }, design: { _tag: 'ablation' as const, replaceWith: 'baseline' as const } }
    const ctx = ctxOf([int64([1, 3], [0, 0, 1])])
    expect(perturb.count(p, flow, ctx)).toBe(2)
    const r = await perturb.expand(p, flow, ctx, 0, 2)()
    if (E.isLeft(r)) throw new Error(r.left.message)
    expect(Array.from(r.right.flow.value[0]!.data as Float32Array)).toEqual([-1, -1, 3, -2, -2, 6, 1, 2, -1, 4, 5, -2])
    expect(Array.from(r.right.flow.rowExample)).toEqual([0, 1, 0, 1])
    const meta = r.right.meta
    expect(isPerturbChunk(meta) && meta.items.length).toBe(2)
  })
  it('permutes a group across the batch for FeaturePermutation', async () => {
    const p = { features: { _tag: 'masks' as const }, design: { _tag: 'ablation' as const, replaceWith: 'permutation' as const } }
    const r = await perturb.expand(p, flow, ctxOf([int64([1, 3], [0, 1, 1])]), 0, 1)()
    if (E.isLeft(r)) throw new Error(r.left.message)
    expect(Array.from(r.right.flow.value[0]!.data as Float32Array)).toEqual([4, 2, 3, 1, 5, 6])
  })
  it('keeps int64 inputs int64', async () => {
    const xi = int64([2, 3], [1, 2, 3, 4, 5, 6])
    const f: Flow<HostTensor> = { ...flow, value: [xi], baseline: [int64([2, 3], [0, 0, 0, 0, 0, 0])] }
    const ctx = { ...ctxOf(), inputs: [xi] }
    const r = await perturb.expand({ features: { _tag: 'masks' }, design: { _tag: 'ablation', replaceWith: 'baseline' } }, f, ctx, 0, 1)()
    if (E.isLeft(r)) throw new Error(r.left.message)
    expect(r.right.flow.value[0]!.dtype).toBe('int64')
    expect(Array.from(r.right.flow.value[0]!.data as BigInt64Array, Number)).toEqual([0, 2, 3, 0, 5, 6])
  })
})

describe('feature layouts', () => {
  it('compacts ids across tensors and broadcasts masks', () => {
    const l = layoutOf({ _tag: 'masks' }, [[2, 2, 2], [2, 3]], [int64([2], [7, 3]), int64([1, 3], [3, 9, 9])])
    if (E.isLeft(l) || l.right.kind !== 'groups') throw new Error('layout')
    expect(l.right.ids).toEqual([3, 7, 9])
    expect(Array.from(l.right.tensors[0]!.feature)).toEqual([1, 0, 1, 0])
    expect(Array.from(l.right.tensors[1]!.feature)).toEqual([0, 2, 2])
  })
  it('places cropped windows on Captum grid', () => {
    const l = layoutOf({ _tag: 'windows', shapes: [[3]], strides: 2 }, [[1, 6]], undefined)
    if (E.isLeft(l)) throw new Error(l.left.message)
    expect(l.right.nFeatures).toBe(3) // ⌈(6 − 3)/2⌉ + 1
    expect(Array.from(absentFeatures(Uint8Array.of(1, 1, 0)))).toEqual([2])
    expect(Array.from(absentPositions(l.right, 0, [2]))).toEqual([4, 5])
    // overlapping windows: an element removed by two of them is listed once
    expect(Array.from(absentPositions(l.right, 0, [1, 2]))).toEqual([2, 3, 4, 5])
  })
})
