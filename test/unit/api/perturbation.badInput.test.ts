// Bad input to the perturbation methods: every failure is a typed error naming what is wrong.
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { fromFunction } from '../../../src/backends/host/index.js'
import {
  attribute, featureAblation, featurePermutation, FeatureAblation, integratedGradients, saliency, IntegratedGradients, KernelShap, Occlusion, ShapleyValues, float32, int64,
  type HostTensor,
} from '../../../src/index.js'
import { multiLayer } from '../../helpers/hostModels.js'
import { errorOf } from '../../helpers/errors.js'

const model = fromFunction(multiLayer)
const x = float32([2, 3], [2, 10, 3, 20, 50, 30])

describe('feature masks', () => {
  it('a mask that does not broadcast to its input', async () => {
    const e = await errorOf(new FeatureAblation(model).attribute(x, { target: 0, featureMask: int64([1, 4], [0, 1, 2, 3]) }))
    expect(e._tag).toBe('ShapeMismatch')
    expect(e.path).toEqual(['featureMask', '0'])
    expect(e.message).toMatch(/does not broadcast/)
  })
  it('a mask with more dims than its input, or one row per example of the wrong count', async () => {
    expect((await errorOf(new FeatureAblation(model).attribute(x, { target: 0, featureMask: int64([1, 2, 3], [0, 1, 2, 0, 1, 2]) })))._tag).toBe('ShapeMismatch')
    expect((await errorOf(new FeatureAblation(model).attribute(x, { target: 0, featureMask: int64([3, 3], [0, 1, 2, 0, 1, 2, 0, 1, 2]) })))._tag).toBe('ShapeMismatch')
  })
  it('non-integer masks', async () => {
    const e = await errorOf(new ShapleyValues(model).attribute(x, { target: 0, featureMask: float32([1, 3], [0, 0.5, 1]) }))
    expect(e._tag).toBe('DTypeMismatch')
    expect(e.message).toMatch(/integers/)
    const b: HostTensor = { dtype: 'bool', shape: [1, 3], data: Uint8Array.of(0, 1, 1) }
    expect((await errorOf(new FeatureAblation(model).attribute(x, { target: 0, featureMask: b })))._tag).toBe('DTypeMismatch')
  })
  it('a malformed mask names its index and what is wrong', async () => {
    const bad = { dtype: 'int64', shape: [1, 3], data: [0, 1, 2] } as unknown as HostTensor
    const e = await errorOf(new FeatureAblation(model).attribute(x, { target: 0, featureMask: bad }))
    expect(e._tag).toBe('DTypeMismatch')
    expect(e.path).toEqual(['featureMask', '0'])
    expect(e.message).toMatch(/featureMask\.0: .*BigInt64Array/)
    const short = { dtype: 'int64', shape: [1, 3], data: BigInt64Array.of(0n, 1n) } as HostTensor
    const s = await errorOf(new FeatureAblation(model).attribute(x, { target: 0, featureMask: short }))
    expect(s._tag).toBe('ShapeMismatch')
    expect(s.message).toMatch(/2 elements/)
  })
  it('a feature mask or baselines given to a method that reads none is an InvalidSpec naming the option', async () => {
    const ig = await attribute(integratedGradients({ nSteps: 2 }), model, x, { target: 0, featureMask: int64([1, 3], [0, 1, 2]) })()
    expect(E.isLeft(ig) && ig.left._tag).toBe('InvalidSpec')
    expect(E.isLeft(ig) && ig.left.message).toMatch(/IntegratedGradients does not use featureMask/)
    const sal = await attribute(saliency(), model, x, { target: 0, baselines: 0 })()
    expect(E.isLeft(sal) && sal.left.message).toMatch(/Saliency does not use baselines/)
    // a chunking bound is not data: a method without perturbations has nothing to bound
    expect(E.isLeft(await attribute(featurePermutation(), model, x, { target: 0, perturbationsPerEval: 2 })())).toBe(false)
  })
  it('masks given for the wrong number of inputs', async () => {
    const e = await errorOf(new FeatureAblation(model).attribute(x, { target: 0, featureMask: [int64([1, 3], [0, 1, 2]), int64([1, 3], [0, 1, 2])] }))
    expect(e._tag).toBe('ShapeMismatch')
  })
  it('per-example masks with a forward that aggregates the batch', async () => {
    const total = fromFunction((xs) => float32([], [Array.from(multiLayer(xs).data as Float32Array).reduce((a, b) => a + b, 0)]))
    const e = await errorOf(new FeatureAblation(total).attribute(x, { featureMask: int64([2, 3], [0, 0, 1, 1, 1, 0]) }))
    expect(e._tag).toBe('ShapeMismatch')
    expect(e.message).toMatch(/whole batch/)
  })
  it('too many features for exact Shapley values', async () => {
    const wide = fromFunction(([v]) => float32([v!.shape[0]!], new Float32Array(v!.shape[0]!)))
    const e = await errorOf(new ShapleyValues(wide).attribute(float32([1, 21], new Float32Array(21))))
    expect(e._tag).toBe('Unsupported')
    expect(e.message).toMatch(/ShapleyValueSampling or KernelShap/)
    expect((await errorOf(new KernelShap(wide).attribute(float32([1, 21], new Float32Array(21)), { exact: true })))._tag).toBe('Unsupported')
  })
})

describe('Occlusion windows', () => {
  it('a window larger than the input', async () => {
    const e = await errorOf(new Occlusion(model).attribute(x, { target: 0, slidingWindowShapes: [4] }))
    expect(e._tag).toBe('ShapeMismatch')
    expect(e.message).toMatch(/larger than input/)
  })
  it('a stride that leaves elements uncovered', async () => {
    const e = await errorOf(new Occlusion(model).attribute(x, { target: 0, slidingWindowShapes: [1], strides: 2 }))
    expect(e._tag).toBe('ShapeMismatch')
    expect(e.path).toEqual(['strides', '0'])
  })
  it('a window of the wrong rank, and windows for the wrong number of inputs', async () => {
    expect((await errorOf(new Occlusion(model).attribute(x, { target: 0, slidingWindowShapes: [1, 1] })))._tag).toBe('ShapeMismatch')
    expect((await errorOf(new Occlusion(model).attribute(x, { target: 0, slidingWindowShapes: [[1], [1]] })))._tag).toBe('ShapeMismatch')
  })
})

describe('forwards', () => {
  it('perturbationsPerEval > 1 with a forward whose output does not grow with the batch', async () => {
    const firstRow = fromFunction(([v]) => float32([1, 3], Array.from(v!.data as Float32Array).slice(0, 3)))
    const e = await errorOf(new FeatureAblation(firstRow).attribute(x, { perturbationsPerEval: 2 }))
    expect(e._tag).toBe('ShapeMismatch')
    expect(e.path).toEqual(['perturbationsPerEval'])
    // Automatic packing falls back to one copy per call instead (Captum's ppe = 1 answer).
    const a = await new FeatureAblation(firstRow).attribute(x, { featureMask: int64([1, 3], [0, 1, 2]) })
    expect(Array.from(a.data as Float32Array)).toEqual([2, 0, 0, 0, 10, 0, 0, 0, 3])
  })
  it('a forward that changes its output size between calls, or returns no tensor', async () => {
    let calls = 0
    const unstable = fromFunction(([v]) => float32([v!.shape[0]!, ++calls > 1 ? 3 : 2], new Float32Array(v!.shape[0]! * (calls > 1 ? 3 : 2))))
    expect((await errorOf(new FeatureAblation(unstable).attribute(x, { perturbationsPerEval: 1 })))._tag).toBe('ShapeMismatch')
    const junk = fromFunction(() => ({ nope: 1 }) as unknown as HostTensor)
    expect((await errorOf(new FeatureAblation(junk).attribute(x)))._tag).toBe('BadModel')
    const throws = fromFunction(() => { throw new Error('boom') })
    const e = await errorOf(new FeatureAblation(throws).attribute(x))
    expect(e._tag).toBe('BackendFailure')
    expect(e.message).toMatch(/boom/)
  })
  it('gradient methods on a forward-only model', async () => {
    const e = await errorOf(new IntegratedGradients(model).attribute(x, { target: 0 }))
    expect(e._tag).toBe('Unsupported')
    expect(e.message).toMatch(/differentiable backend/)
  })
  it('bad option values', async () => {
    expect((await errorOf(new FeatureAblation(model).attribute(x, { perturbationsPerEval: 0 })))._tag).toBe('InvalidSpec')
  })
})

describe('progress and cancellation', () => {
  it('reports evaluations done / total and stops on abort', async () => {
    const seen: [number, number][] = []
    const r = await attribute(featureAblation(), model, x, { target: 0, perturbationsPerEval: 1, onProgress: (p) => seen.push([p.done, p.total]) })()
    expect(E.isRight(r)).toBe(true)
    expect(seen.at(-1)).toEqual([8, 8]) // 2 examples × (1 reference + 3 ablations)
    expect(seen.every(([d, t], i) => d <= t && (i === 0 || d > seen[i - 1]![0]))).toBe(true)
    const ctl = new AbortController()
    const cancelled = await attribute(featureAblation(), model, x, {
      target: 0, perturbationsPerEval: 1, signal: ctl.signal, onProgress: (p) => { if (p.done >= 4) ctl.abort() },
    })()
    expect(E.isLeft(cancelled) && cancelled.left._tag).toBe('Cancelled')
  })
})
