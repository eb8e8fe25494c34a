import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { hostBackend } from '../../../../src/backends/host/hostBackend.js'
import { fromFunction } from '../../../../src/backends/host/index.js'
import { keyOf } from '../../../../src/core/random.js'
import type { Target } from '../../../../src/core/target.js'
import { memoTable, type Flow, type RunContext } from '../../../../src/dsl/flow.js'
import { forward } from '../../../../src/dsl/stages/forward.js'
import { reference } from '../../../../src/dsl/stages/reference.js'
import { float32, type HostTensor } from '../../../../src/index.js'

// y = [x0 + x1, 10·x0, x1] per row
const model = fromFunction(([v]) => {
  const n = v!.shape[0]!
  const d = v!.data as Float32Array
  return float32([n, 3], Array.from({ length: n }, (_, i) => [d[2 * i]! + d[2 * i + 1]!, 10 * d[2 * i]!, d[2 * i + 1]!]).flat())
})
const x = float32([2, 2], [1, 2, 3, 4])
const ctxOf = (target: Target): RunContext<HostTensor> => ({
  model, backend: hostBackend, nExamples: 2, inputs: [x], extraArgs: [], target, key: keyOf(0), chunk: { memoryBudgetBytes: 1e9 }, track: (t) => t, tick: () => undefined,
    modelOptions: {}, callData: {}, memo: memoTable(),
    runInner: () => () => Promise.reject(new Error('not used')),
})
const flow: Flow<HostTensor> = { value: [x], rowExample: Int32Array.of(0, 1), space: { kind: 'input' } }

describe('reference and forward', () => {
  it('target null keeps every output value; an index picks a column; a list picks per example', async () => {
    const all = await reference.run({}, flow, ctxOf(null))()
    if (E.isLeft(all)) throw new Error(all.left.message)
    expect(all.right.reference?.selShape).toEqual([2, 3])
    expect(Array.from(all.right.reference!.selected)).toEqual([3, 10, 2, 7, 30, 4])
    const col = await reference.run({}, flow, ctxOf(1))()
    expect(E.isRight(col) && Array.from(col.right.reference!.selected)).toEqual([10, 30])
    const per = await reference.run({}, flow, ctxOf([2, 0]))()
    expect(E.isRight(per) && Array.from(per.right.reference!.selected)).toEqual([2, 7])
  })
  it('forward returns a [K, nOut] matrix for K copies, packed or not', async () => {
    const ctx = ctxOf([2, 0])
    const ref = await reference.run({}, flow, ctx)()
    if (E.isLeft(ref)) throw new Error(ref.left.message)
    const copies: Flow<HostTensor> = { ...ref.right, value: [float32([4, 2], [1, 2, 3, 4, 0, 0, 5, 5])], rowExample: Int32Array.of(0, 1, 0, 1) }
    for (const ppe of [undefined, 1]) {
      const out = await forward.run({}, copies, { ...ctx, ...(ppe ? { perturbationsPerEval: ppe } : {}) })()
      if (E.isLeft(out)) throw new Error(out.left.message)
      expect(out.right.value[0]!.shape).toEqual([2, 2])
      expect(Array.from(out.right.value[0]!.data as Float32Array)).toEqual([2, 7, 0, 10])
    }
  })
  it('forward without a reference is a pipeline error', async () => {
    const out = await forward.run({}, flow, ctxOf(0))()
    expect(E.isLeft(out) && out.left._tag).toBe('BadPipeline')
  })
})
